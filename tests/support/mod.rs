//! Shared helpers for EMMA's integration tests: the AWS emulator that the
//! test command starts, EMMA built on either adapter set, HTTP calls against
//! its router, and reading back what it sent.

pub mod app;
pub mod aws;
pub mod browser;
pub mod counting;
pub mod http;
pub mod logs;
pub mod sent;

/// Expands each named `async fn case(subject)` of the calling module into
/// two tests, `local::case` and `cloud::case`, each calling it with the
/// subject built by its expression (evaluated inside the async test, so it
/// may `.await`): one conformance suite, run on both adapters.
#[macro_export]
macro_rules! on_both {
    (local: $local:expr, cloud: $cloud:expr; $($case:ident),+ $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case($local).await;
                }
            )+
        }
        mod cloud {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case($cloud).await;
                }
            )+
        }
    };
}

/// Runs each named `async fn case(adapters: Adapters)` on the local and on
/// the cloud adapter set.
#[macro_export]
macro_rules! on_both_adapter_sets {
    ($($case:ident),+ $(,)?) => {
        $crate::on_both!(
            local: $crate::app::Adapters::Local,
            cloud: $crate::app::Adapters::Cloud;
            $($case),+
        );
    };
}
