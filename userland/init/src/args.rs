//! The capsule manager commands' arguments: read into requests before
//! anything is sent, so that a mistake sends nothing.

use alloc::string::{String, ToString};
use core::fmt;

use ctl::Request;
use ctl::text::{SizeError, clean, parse_size_mib};

/// `start`'s arguments, as `help` and its usage line show them.
pub const START_ARGS: &str = "<image> [name=<name>] [ram=<size>] [vcores=<n>]";
/// `upload`'s.
pub const UPLOAD_ARGS: &str = "<file> [name=<name>]";

/// What `start` and `upload` take, for [`ArgError::UnknownKey`] and
/// [`ArgError::ExtraWord`].
const START_KEYS: &str = "start takes name=, ram= and vcores=";
const START_WORDS: &str = "start takes one image, then settings such as ram=128M";
const UPLOAD_KEYS: &str = "upload takes only name=";
const UPLOAD_WORDS: &str = "upload takes one file, then name=<name> if you like";

/// What is wrong with a command's arguments. Each shows as a sentence,
/// or a usage line when arguments are missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgError {
    /// Missing or extra arguments: the command and what it takes.
    Usage(&'static str, &'static str),
    /// A `key=value` whose key the command does not know, and what it
    /// takes.
    UnknownKey(String, &'static str),
    /// A second word without `=` after the image (or file), and what the
    /// command takes.
    ExtraWord(String, &'static str),
    /// A key given twice.
    Repeated(&'static str),
    Size(SizeError),
    Vcores(String),
    /// `name=` with nothing after it: whose name (`capsule`, `image`).
    EmptyName(&'static str),
    Id(String),
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgError::Usage(name, "") => write!(f, "usage: {name}"),
            ArgError::Usage(name, args) => write!(f, "usage: {name} {args}"),
            ArgError::UnknownKey(key, takes) => {
                write!(f, "There is no setting \"{}\"; {takes}.", clean(key))
            }
            ArgError::ExtraWord(word, takes) => {
                write!(f, "\"{}\" is one word too many: {takes}.", clean(word))
            }
            ArgError::Repeated(key) => write!(f, "The setting {key}= is given twice."),
            ArgError::Size(e) => write!(f, "{e}"),
            ArgError::Vcores(n) => write!(
                f,
                "The vcore count \"{}\" is not a whole number from 1 up.",
                clean(n)
            ),
            ArgError::EmptyName(whose) => write!(f, "The {whose}'s name must not be empty."),
            ArgError::Id(id) => write!(f, "The capsule id \"{}\" is not a number.", clean(id)),
        }
    }
}

/// What `start` was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    pub image: String,
    pub name: Option<String>,
    pub ram_mib: Option<u32>,
    pub vcores: Option<u32>,
}

impl Start {
    pub fn request(&self) -> Request {
        Request::Start {
            image: self.image.clone(),
            name: self.name.clone(),
            ram_mib: self.ram_mib,
            vcores: self.vcores,
        }
    }

    /// The new capsule's name: as given, or else its image's.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.image)
    }
}

/// `start <image> [name=<name>] [ram=<size>] [vcores=<n>]`, settings in
/// any order, keys in any case.
pub fn start(args: &[&str]) -> Result<Start, ArgError> {
    let mut image = None;
    let mut name = None;
    let mut ram_mib = None;
    let mut vcores = None;
    for &word in args {
        let Some((key, value)) = word.split_once('=') else {
            if image.is_some() {
                return Err(ArgError::ExtraWord(word.into(), START_WORDS));
            }
            image = Some(word.to_string());
            continue;
        };
        if key.eq_ignore_ascii_case("name") {
            if value.is_empty() {
                return Err(ArgError::EmptyName("capsule"));
            }
            once(&mut name, "name", value.to_string())?;
        } else if key.eq_ignore_ascii_case("ram") {
            let mib = parse_size_mib(value).map_err(ArgError::Size)?;
            once(&mut ram_mib, "ram", mib)?;
        } else if key.eq_ignore_ascii_case("vcores") {
            let n = value
                .parse::<u32>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| ArgError::Vcores(value.into()))?;
            once(&mut vcores, "vcores", n)?;
        } else {
            return Err(ArgError::UnknownKey(key.into(), START_KEYS));
        }
    }
    let image = image.ok_or(ArgError::Usage("start", START_ARGS))?;
    Ok(Start {
        image,
        name,
        ram_mib,
        vcores,
    })
}

fn once<T>(slot: &mut Option<T>, key: &'static str, value: T) -> Result<(), ArgError> {
    if slot.is_some() {
        return Err(ArgError::Repeated(key));
    }
    *slot = Some(value);
    Ok(())
}

/// What `upload` was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub path: String,
    /// As given, or else the file's last path component.
    pub name: String,
}

/// `upload <file> [name=<name>]`. A word is a setting when it has an `=`
/// with no `/` before it, so `./a=b` is a file.
pub fn upload(args: &[&str]) -> Result<Upload, ArgError> {
    let mut path = None;
    let mut name = None;
    for &word in args {
        match word.split_once('=').filter(|(key, _)| !key.contains('/')) {
            Some((key, value)) if key.eq_ignore_ascii_case("name") => {
                once(&mut name, "name", value.to_string())?;
            }
            Some((key, _)) => return Err(ArgError::UnknownKey(key.into(), UPLOAD_KEYS)),
            None if path.is_some() => return Err(ArgError::ExtraWord(word.into(), UPLOAD_WORDS)),
            None => path = Some(word.to_string()),
        }
    }
    let path: String = path.ok_or(ArgError::Usage("upload", UPLOAD_ARGS))?;
    let name = name.unwrap_or_else(|| {
        let last = path.trim_end_matches('/').rsplit('/').next();
        last.unwrap_or_default().to_string()
    });
    if name.is_empty() {
        return Err(ArgError::EmptyName("image"));
    }
    Ok(Upload { path, name })
}

/// The one argument of `stop <id>` and the like.
pub fn id(command: &'static str, args: &[&str]) -> Result<u32, ArgError> {
    match args {
        [id] => id.parse().map_err(|_| ArgError::Id((*id).into())),
        _ => Err(ArgError::Usage(command, "<id>")),
    }
}

/// The one argument of `remove <image>`.
pub fn image(command: &'static str, args: &[&str]) -> Result<String, ArgError> {
    match args {
        [name] => Ok((*name).into()),
        _ => Err(ArgError::Usage(command, "<image>")),
    }
}

/// No arguments, for `images` and `capsules`.
pub fn none(command: &'static str, args: &[&str]) -> Result<(), ArgError> {
    match args {
        [] => Ok(()),
        _ => Err(ArgError::Usage(command, "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start_of(line: &str) -> Result<Request, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        start(&words)
            .map(|s| s.request())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn start_takes_an_image_and_settings_in_any_order() {
        assert_eq!(
            start_of("hello"),
            Ok(Request::Start {
                image: "hello".into(),
                name: None,
                ram_mib: None,
                vcores: None
            })
        );
        assert_eq!(
            start_of("vcores=2 RAM=1G linux name=web"),
            Ok(Request::Start {
                image: "linux".into(),
                name: Some("web".into()),
                ram_mib: Some(1024),
                vcores: Some(2)
            })
        );
        let web = start(&["linux", "name=web"]).unwrap();
        assert_eq!(web.name(), "web");
        assert_eq!(start(&["linux"]).unwrap().name(), "linux");
        assert_eq!(
            start_of("linux ram=128").map(|r| matches!(
                r,
                Request::Start {
                    ram_mib: Some(128),
                    ..
                }
            )),
            Ok(true)
        );
    }

    #[test]
    fn start_refuses_bad_arguments_with_a_sentence() {
        let bad = [
            (
                "",
                "usage: start <image> [name=<name>] [ram=<size>] [vcores=<n>]",
            ),
            (
                "ram=64M",
                "usage: start <image> [name=<name>] [ram=<size>] [vcores=<n>]",
            ),
            (
                "linux cpus=2",
                "There is no setting \"cpus\"; start takes name=, ram= and vcores=.",
            ),
            (
                "linux web",
                "\"web\" is one word too many: start takes one image, then settings such as ram=128M.",
            ),
            ("linux ram=1G ram=2G", "The setting ram= is given twice."),
            (
                "linux ram=12x",
                "Sizes are in M (MiB) or G (GiB), not \"x\".",
            ),
            (
                "linux ram=",
                "No size was given; write one like 128, 128M or 1G.",
            ),
            ("linux ram=0", "The size must be more than zero."),
            (
                "linux vcores=0",
                "The vcore count \"0\" is not a whole number from 1 up.",
            ),
            (
                "linux vcores=two",
                "The vcore count \"two\" is not a whole number from 1 up.",
            ),
            ("linux name=", "The capsule's name must not be empty."),
            (
                "linux =5",
                "There is no setting \"\"; start takes name=, ram= and vcores=.",
            ),
        ];
        for (line, message) in bad {
            assert_eq!(start_of(line), Err(message.to_string()), "{line:?}");
        }
    }

    #[test]
    fn upload_takes_a_file_and_perhaps_a_name() {
        let up = |path: &str, name: &str| {
            Ok(Upload {
                path: path.into(),
                name: name.into(),
            })
        };
        assert_eq!(upload(&["/boot/Image"]), up("/boot/Image", "Image"));
        assert_eq!(upload(&["Image"]), up("Image", "Image"));
        assert_eq!(upload(&["/boot/linux/"]), up("/boot/linux/", "linux"));
        assert_eq!(
            upload(&["Name=web", "/boot/Image"]),
            up("/boot/Image", "web")
        );
        assert_eq!(upload(&["./a=b"]), up("./a=b", "a=b"));
        let bad = [
            (&[][..], "usage: upload <file> [name=<name>]"),
            (&["name=x"], "usage: upload <file> [name=<name>]"),
            (
                &["a", "b"],
                "\"b\" is one word too many: upload takes one file, then name=<name> if you like.",
            ),
            (
                &["a", "ram=1G"],
                "There is no setting \"ram\"; upload takes only name=.",
            ),
            (&["a", "name="], "The image's name must not be empty."),
            (&["/"], "The image's name must not be empty."),
            (
                &["a", "name=x", "name=y"],
                "The setting name= is given twice.",
            ),
        ];
        for (args, message) in bad {
            assert_eq!(
                upload(args).map_err(|e| e.to_string()),
                Err(message.to_string()),
                "{args:?}"
            );
        }
    }

    #[test]
    fn ids_are_one_number() {
        assert_eq!(id("stop", &["7"]), Ok(7));
        assert_eq!(
            id("stop", &["x7"]).unwrap_err().to_string(),
            "The capsule id \"x7\" is not a number."
        );
        assert_eq!(
            id("stop", &["-1"]).unwrap_err().to_string(),
            "The capsule id \"-1\" is not a number."
        );
        assert_eq!(id("stop", &[]).unwrap_err().to_string(), "usage: stop <id>");
        assert_eq!(
            id("output", &["1", "2"]).unwrap_err().to_string(),
            "usage: output <id>"
        );
        assert_eq!(none("images", &[]), Ok(()));
        assert_eq!(
            none("images", &["x"]).unwrap_err().to_string(),
            "usage: images"
        );
    }
}
