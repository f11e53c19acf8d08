//! The UI's languages and its message catalogue: Fluent files for German
//! (the default) and English, embedded in the binary, and the choice of
//! language for a request (the `emma_lang` cookie, else `Accept-Language`).

use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, header, request::Parts};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

/// The cookie that holds the chosen language.
pub const LANG_COOKIE: &str = "emma_lang";

/// A language of the UI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    /// The language tag, as in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// `de` or `en` (a region such as `de-AT` counts as its language).
    pub fn parse(raw: &str) -> Option<Lang> {
        let primary = raw.trim().split(['-', '_']).next()?;
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The language of a request: the `emma_lang` cookie, else the best
    /// supported entry of `Accept-Language`, else German.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let from_cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == LANG_COOKIE)
            .and_then(|(_, v)| Lang::parse(v));
        if let Some(lang) = from_cookie {
            return lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
            .unwrap_or_default()
    }

    /// The supported language with the highest weight, earlier entries
    /// winning ties; `q=0` means "not this one".
    fn from_accept_language(value: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for entry in value.split(',') {
            let mut parts = entry.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(lang, _)| lang)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

const DE: &str = include_str!("locales/de/main.ftl");
const EN: &str = include_str!("locales/en/main.ftl");

fn bundle(lang: Lang, source: &'static str) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("{} catalogue: {errors:?}", lang.code()));
    let id = lang.code().parse().expect("a valid language tag");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around placeables: the pages are
    // left-to-right only, and the marks would end up in copied text.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("{} catalogue: {errors:?}", lang.code()));
    bundle
}

static BUNDLES: LazyLock<[FluentBundle<FluentResource>; 2]> =
    LazyLock::new(|| [bundle(Lang::De, DE), bundle(Lang::En, EN)]);

fn bundle_of(lang: Lang) -> &'static FluentBundle<FluentResource> {
    &BUNDLES[match lang {
        Lang::De => 0,
        Lang::En => 1,
    }]
}

/// Whether the catalogue of `lang` has the message.
#[cfg(test)]
pub fn has(lang: Lang, id: &str) -> bool {
    bundle_of(lang).has_message(id)
}

/// The message `id` in `lang`, with `args` filled in. A missing message is
/// logged and shows as its id, so a page still renders.
pub fn message(lang: Lang, id: &str, args: Option<&FluentArgs>) -> String {
    let bundle = bundle_of(lang);
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        tracing::error!(lang = lang.code(), id, "message missing from the catalogue");
        return id.to_owned();
    };
    let mut errors = Vec::new();
    let text = bundle
        .format_pattern(pattern, args, &mut errors)
        .into_owned();
    if !errors.is_empty() {
        tracing::error!(lang = lang.code(), id, ?errors, "message did not format");
    }
    text
}

/// The message `id` in `lang`, without arguments.
pub fn tr(lang: Lang, id: &str) -> String {
    message(lang, id, None)
}

/// Every message id of a catalogue (the lines `id = ...` at the start of
/// a line), for the tests that keep both catalogues complete.
#[cfg(test)]
pub fn ids(lang: Lang) -> Vec<String> {
    let source = match lang {
        Lang::De => DE,
        Lang::En => EN,
    };
    source
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|line| line.split_once(" ="))
        .map(|(id, _)| id.trim().to_owned())
        .collect()
}
