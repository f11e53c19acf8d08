//! Passwords: the policy a new password must meet (length, not common, not
//! the user's own address) and argon2id hashing with OWASP's current
//! parameters, stored as PHC strings.
//!
//! Hashing costs about 19 MiB and tens of milliseconds of CPU on purpose; in
//! async code use [`hash_blocking`] and [`verify_blocking`], which run it on
//! tokio's blocking pool.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::phc;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use serde::{Deserialize, Serialize};

/// Argon2 memory cost in KiB (OWASP Password Storage Cheat Sheet: m=19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Argon2 iterations (OWASP: t=2 with m=19 MiB).
pub const ITERATIONS: u32 = 2;
/// Argon2 lanes (OWASP: p=1).
pub const PARALLELISM: u32 = 1;
/// Length of the derived hash in bytes.
pub const OUTPUT_LEN: usize = 32;

/// Words every EMMA password is checked against besides the user's own data.
const PRODUCT_WORDS: [&str; 2] = ["emma", "sparkasse"];

/// zxcvbn's word lists are English; these German words are the usual cores
/// of German passwords ("Sommer2024!"). They are passed to zxcvbn as known
/// words, most common first.
const GERMAN_WORDS: &[&str] = &[
    "passwort",
    "hallo",
    "sommer",
    "winter",
    "herbst",
    "fruehling",
    "frühling",
    "schatz",
    "geheim",
    "liebe",
    "willkommen",
    "kennwort",
    "fussball",
    "fußball",
    "januar",
    "februar",
    "maerz",
    "märz",
    "april",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "bayern",
    "schalke",
    "dortmund",
    "deutschland",
    "berlin",
    "hamburg",
    "muenchen",
    "münchen",
    "koeln",
    "köln",
    "sonne",
    "blume",
    "sonnenschein",
    "hase",
    "mausi",
    "schnecke",
    "engel",
    "prinzessin",
    "zugang",
    "anmeldung",
    "start",
    "bank",
    "konto",
    "sicher",
    "sicherheit",
    "familie",
    "kinder",
    "katze",
    "hund",
];

/// The rules a new password has to meet (OWASP ASVS V2.1): a length between
/// `min_chars` and `max_chars` characters (Unicode scalar values, not
/// bytes), no e-mail local part of the user in it, and not common.
///
/// "Common" is zxcvbn's judgement (it ships frequency lists of common
/// passwords, names and words, and scores 0 to 4 how guessable a password
/// is): refused below `min_score`. Two additions for German users: German
/// password words join zxcvbn's English lists, and a password whose core —
/// without the digits, punctuation and spaces around it — is itself trivially
/// guessable (score 0 or 1, like "Sommer" in "Sommer2024!!") is refused too,
/// since a word with a year and a "!" is the first pattern guessers try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters accepted.
    pub min_chars: usize,
    /// Most characters accepted.
    pub max_chars: usize,
    /// Lowest zxcvbn score (0 to 4) accepted.
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: 12,
            max_chars: 128,
            min_score: 3,
        }
    }
}

/// Why a new password was refused; `code()` is stable for the UI, which
/// renders the message from its catalogue (the serialised form carries the
/// code and the numbers the message needs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PasswordProblem {
    /// Fewer than `min` characters.
    #[error("the password has fewer than {min} characters")]
    TooShort {
        /// The minimum number of characters.
        min: usize,
    },
    /// More than `max` characters.
    #[error("the password has more than {max} characters")]
    TooLong {
        /// The maximum number of characters.
        max: usize,
    },
    /// Common or easy to guess.
    #[error("the password is too common or too easy to guess")]
    TooCommon,
    /// Contains the user's e-mail address (or its local part).
    #[error("the password contains the user's e-mail address")]
    ContainsPersonalData,
}

impl PasswordProblem {
    /// A stable, machine-readable code: `too_short`, `too_long`,
    /// `too_common` or `contains_personal_data`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::TooCommon => "too_common",
            Self::ContainsPersonalData => "contains_personal_data",
        }
    }
}

impl PasswordPolicy {
    /// Checks a new password. `user_inputs` are the user's e-mail address,
    /// name parts and the like; they count as known words for the
    /// guessability score, and an e-mail local part of 4 or more characters
    /// (or a 4+ character piece of it between `.`, `_`, `-` or `+`) must not
    /// appear in the password, whatever the case.
    pub fn check(&self, password: &str, user_inputs: &[&str]) -> Result<(), PasswordProblem> {
        let chars = password.chars().count();
        if chars < self.min_chars {
            return Err(PasswordProblem::TooShort {
                min: self.min_chars,
            });
        }
        if chars > self.max_chars {
            return Err(PasswordProblem::TooLong {
                max: self.max_chars,
            });
        }

        let lowered = password.to_lowercase();
        let local_parts: Vec<String> = user_inputs
            .iter()
            .filter_map(|input| input.rsplit_once('@'))
            .map(|(local, _domain)| local.to_lowercase())
            .collect();
        let personal = local_parts.iter().any(|local| {
            std::iter::once(local.as_str())
                .chain(local.split(['.', '_', '-', '+']))
                .any(|piece| piece.chars().count() >= 4 && lowered.contains(piece))
        });
        if personal {
            return Err(PasswordProblem::ContainsPersonalData);
        }

        let mut known: Vec<&str> = user_inputs.to_vec();
        known.extend(local_parts.iter().map(String::as_str));
        known.extend(PRODUCT_WORDS);
        known.extend(GERMAN_WORDS);
        let score = |candidate: &str| u8::from(zxcvbn::zxcvbn(candidate, &known).score());
        if score(password) < self.min_score {
            return Err(PasswordProblem::TooCommon);
        }
        let core = password.trim_matches(|c: char| {
            c.is_ascii_digit() || c.is_ascii_punctuation() || c.is_whitespace()
        });
        if core != password && score(core) < 2 {
            return Err(PasswordProblem::TooCommon);
        }
        Ok(())
    }
}

/// Hashing went wrong: not a wrong password, a fault.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// argon2 or the random salt failed.
    #[error("password hashing failed: {0}")]
    Hashing(argon2::password_hash::Error),
    /// The blocking task that hashed was cancelled or panicked.
    #[error("the password hashing task did not finish")]
    TaskFailed,
    /// A stored hash is not a PHC string.
    #[error("not a PHC password hash string")]
    NotAPhcString,
}

/// A password hash as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`),
/// stored and serialised as that string. Its `Debug` shows the algorithm and
/// parameters only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a stored PHC string without checking it: one that does not
    /// parse never verifies, and [`needs_rehash`] says so. Use `parse` or
    /// `TryFrom<String>` to check it.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parsed(&self) -> Option<phc::PasswordHash> {
        phc::PasswordHash::new(&self.0).ok()
    }
}

impl TryFrom<String> for PasswordHash {
    type Error = PasswordError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        phc::PasswordHash::new(&value).map_err(|_| PasswordError::NotAPhcString)?;
        Ok(Self(value))
    }
}

impl FromStr for PasswordHash {
    type Err = PasswordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::try_from(s.to_owned())
    }
}

impl From<PasswordHash> for String {
    fn from(value: PasswordHash) -> Self {
        value.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.parsed() {
            Some(parsed) => write!(f, "PasswordHash(${}${})", parsed.algorithm, parsed.params),
            None => f.write_str("PasswordHash(?)"),
        }
    }
}

/// The parameters new hashes are made with (checked at compile time).
const PARAMS: Params = match Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_LEN)) {
    Ok(params) => params,
    Err(_) => panic!("the argon2 parameters are out of range"),
};

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS)
}

/// Hashes a password with argon2id, the current parameters and a random
/// 16-byte salt. CPU- and memory-heavy: in async code use [`hash_blocking`].
pub fn hash(password: &str) -> Result<PasswordHash, PasswordError> {
    let hashed = hasher()
        .hash_password(password.as_bytes())
        .map_err(PasswordError::Hashing)?;
    Ok(PasswordHash(hashed.to_string()))
}

/// Whether `password` matches `hash`, using the parameters stored in the hash
/// (so hashes made with older parameters still verify; see [`needs_rehash`]).
/// The comparison is constant-time. CPU- and memory-heavy: in async code use
/// [`verify_blocking`].
pub fn verify(password: &str, hash: &PasswordHash) -> bool {
    match hash.parsed() {
        Some(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        None => false,
    }
}

/// A hash of a random password that was thrown away, made with the current
/// parameters (a test keeps it in step with them).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$s4Sa1iPrNRmRvuCm+EqeUA$QARptZXxVmm2QW5ArtA+GkAD6KMGs9rxEFKCpMwtGfI";

/// Costs what [`verify`] costs and always answers `false`: call it when the
/// account does not exist, so the response time does not tell an attacker
/// which accounts do.
pub fn verify_dummy(password: &str) -> bool {
    let dummy = PasswordHash(DUMMY_HASH.to_owned());
    std::hint::black_box(verify(password, &dummy));
    false
}

/// Whether a stored hash was made with other than the current algorithm,
/// version or parameters (or cannot be read): rehash the password after the
/// next successful sign-in.
pub fn needs_rehash(hash: &PasswordHash) -> bool {
    let Some(parsed) = hash.parsed() else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != Algorithm::Argon2id.as_str()
        || parsed.version != Some(Version::V0x13.into())
        || params.m_cost() != MEMORY_KIB
        || params.t_cost() != ITERATIONS
        || params.p_cost() != PARALLELISM
        || params.output_len() != Some(OUTPUT_LEN)
}

/// [`hash`] on tokio's blocking pool.
pub async fn hash_blocking(password: String) -> Result<PasswordHash, PasswordError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|_| PasswordError::TaskFailed)?
}

/// [`verify`] on tokio's blocking pool; `false` if the task fails.
pub async fn verify_blocking(password: String, hash: PasswordHash) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, &hash))
        .await
        .unwrap_or(false)
}

/// [`verify_dummy`] on tokio's blocking pool; always `false`.
pub async fn verify_dummy_blocking(password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_dummy(&password))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "erika.mustermann@sparkasse-musterstadt.de";
    const STRONG: &str = "Wolke-Fahrrad-Tinte-Nordsee";

    fn check(password: &str) -> Result<(), PasswordProblem> {
        PasswordPolicy::default().check(password, &[EMAIL, "Erika", "Mustermann"])
    }

    fn code(password: &str) -> Option<&'static str> {
        check(password).err().map(|problem| problem.code())
    }

    #[test]
    fn a_strong_passphrase_passes_the_policy() {
        assert_eq!(check(STRONG), Ok(()));
        assert_eq!(check("Kaffeetasse mit Henkel 42"), Ok(()));
    }

    #[test]
    fn a_password_under_twelve_characters_is_too_short() {
        assert_eq!(
            check("Sommer2024!"),
            Err(PasswordProblem::TooShort { min: 12 })
        );
        assert_eq!(code("x7#Qp!9zLm2"), Some("too_short"));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 11 characters, 22 bytes: too short although the bytes would do.
        assert_eq!(code("ääääääääääă"), Some("too_short"));
        // 120 characters in 140 bytes: not too long.
        let long = "Äpfel-Birnen-Öl-Übermut-".repeat(5);
        assert!(long.chars().count() <= 128 && long.len() > 128);
        assert_ne!(code(&long), Some("too_long"));
    }

    #[test]
    fn a_password_over_128_characters_is_too_long() {
        let long = format!("{STRONG}-").repeat(5);
        assert!(long.chars().count() > 128);
        assert_eq!(check(&long), Err(PasswordProblem::TooLong { max: 128 }));
    }

    #[test]
    fn common_passwords_are_refused_as_too_common() {
        for common in [
            "passwort123456",
            "password1234",
            "qwertz123456",
            "Sparkasse2024!",
            "Willkommen2024!",
            "Dezember2024!",
            "Sommer2024!!",
            "Hallo1234567!",
        ] {
            assert_eq!(code(common), Some("too_common"), "{common}");
        }
    }

    #[test]
    fn a_password_containing_the_email_local_part_is_personal_data() {
        assert_eq!(
            code("erika.mustermann-2024!"),
            Some("contains_personal_data")
        );
        assert_eq!(
            code("Kiel-ERIKA.MUSTERMANN-7"),
            Some("contains_personal_data")
        );
        // A 4+ character piece of the local part counts too.
        assert_eq!(code("Mustermann-Kaffee-42"), Some("contains_personal_data"));
    }

    #[test]
    fn a_local_part_under_four_characters_is_not_searched_for() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.check("Wolke-Fahrrad-abc-Nordsee", &["abc@example.org"]),
            Ok(())
        );
        assert_eq!(
            policy.check("Wolke-Fahrrad-abcd-Nordsee", &["abcd@example.org"]),
            Err(PasswordProblem::ContainsPersonalData)
        );
    }

    #[test]
    fn a_problem_serialises_as_its_code_and_numbers() {
        let short = serde_json::to_value(PasswordProblem::TooShort { min: 12 }).unwrap();
        assert_eq!(short, serde_json::json!({"code": "too_short", "min": 12}));
        let common = serde_json::to_value(PasswordProblem::TooCommon).unwrap();
        assert_eq!(common, serde_json::json!({"code": "too_common"}));
        let personal = PasswordProblem::ContainsPersonalData;
        assert_eq!(
            serde_json::to_value(&personal).unwrap()["code"],
            personal.code()
        );
    }

    #[test]
    fn a_hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let hashed = hash(STRONG).unwrap();
        assert!(
            hashed
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        assert!(verify(STRONG, &hashed));
        assert!(!needs_rehash(&hashed));
    }

    #[test]
    fn a_wrong_password_does_not_verify() {
        let hashed = hash(STRONG).unwrap();
        assert!(!verify("Wolke-Fahrrad-Tinte-Ostsee", &hashed));
        assert!(!verify("", &hashed));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_their_salt() {
        assert_ne!(hash(STRONG).unwrap(), hash(STRONG).unwrap());
    }

    #[test]
    fn a_hash_with_other_parameters_verifies_but_needs_rehash() {
        let weaker = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 3, 1, Some(OUTPUT_LEN)).unwrap(),
        );
        let old = weaker.hash_password(STRONG.as_bytes()).unwrap().to_string();
        let old = PasswordHash::try_from(old).unwrap();
        assert!(verify(STRONG, &old));
        assert!(needs_rehash(&old));

        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, PARAMS);
        let other = argon2i
            .hash_password(STRONG.as_bytes())
            .unwrap()
            .to_string();
        assert!(needs_rehash(&PasswordHash::from_phc(other)));
    }

    #[test]
    fn a_stored_string_that_is_no_phc_hash_never_verifies() {
        assert!("not a hash".parse::<PasswordHash>().is_err());
        let broken = PasswordHash::from_phc("not a hash".to_owned());
        assert!(!verify("not a hash", &broken));
        assert!(needs_rehash(&broken));
    }

    #[test]
    fn the_dummy_hash_has_the_current_parameters_and_never_matches() {
        let dummy: PasswordHash = DUMMY_HASH.parse().unwrap();
        assert!(!needs_rehash(&dummy));
        assert!(!verify_dummy(STRONG));
        assert!(!verify_dummy(""));
    }

    #[test]
    fn a_hash_serialises_as_its_phc_string_and_hides_it_in_debug() {
        let hashed = hash(STRONG).unwrap();
        let json = serde_json::to_string(&hashed).unwrap();
        assert_eq!(json, format!("\"{}\"", hashed.as_str()));
        let back: PasswordHash = serde_json::from_str(&json).unwrap();
        assert_eq!(back, hashed);
        assert!(serde_json::from_str::<PasswordHash>("\"plain text\"").is_err());

        let debug = format!("{hashed:?}");
        assert_eq!(debug, "PasswordHash($argon2id$m=19456,t=2,p=1)");
    }

    #[tokio::test]
    async fn the_blocking_wrappers_hash_and_verify_off_the_runtime() {
        let hashed = hash_blocking(STRONG.to_owned()).await.unwrap();
        assert!(verify_blocking(STRONG.to_owned(), hashed.clone()).await);
        assert!(!verify_blocking("wrong".to_owned(), hashed).await);
        assert!(!verify_dummy_blocking(STRONG.to_owned()).await);
    }
}
