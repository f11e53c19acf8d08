//! Browser tests' harness: EMMA on the local adapters served on a real
//! 127.0.0.1 port, and a headless Debian Chromium driven through
//! ChromeDriver (WebDriver, via fantoccini). Everything it starts ends when
//! the [`Browser`] is dropped, also when a test panics.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use emma::bootstrap;
use emma::config::Config;
use emma::ports::SystemClock;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::{Adapters, MAIL_FROM, TestApp};

/// The flags Chromium needs on a closed, root-run machine: no sandbox, no
/// GPU, and none of the background connections the network refuses.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1280,1000",
    "--lang=de-DE",
];

/// How long the harness waits for something to start or a page to reach
/// the expected state before it gives up (a bound, not an assertion).
const PATIENCE: Duration = Duration::from_secs(60);

/// EMMA served on 127.0.0.1 and a headless Chromium pointed at it.
pub struct Browser {
    /// The served EMMA: create users and tenants through it.
    pub app: TestApp,
    /// E.g. `http://127.0.0.1:41234` (no trailing slash).
    pub base_url: String,
    /// The WebDriver client controlling Chromium.
    pub client: Client,
    session_id: Option<String>,
    driver: Driver,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    _profile: tempfile::TempDir,
}

/// Starts EMMA (local adapters) on a free port in the calling test's tokio
/// runtime, then ChromeDriver and a fresh headless Chromium. Panics, telling
/// to run `scripts/test`, when Chromium or ChromeDriver is not installed.
pub async fn start() -> Browser {
    let chromium = find_binary("chromium");
    let chromedriver = find_binary("chromedriver");

    let (app, base_url, shutdown, server) = serve_local().await;

    let profile = tempfile::tempdir().expect("a temporary Chromium profile folder");
    let driver = Driver::start(&chromedriver, profile.path()).await;

    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
    args.push(format!(
        "--user-data-dir={}",
        profile.path().join("user-data").display()
    ));
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": args,
            // A German-speaking user, as the savings banks' staff are: the
            // UI picks its language from Accept-Language.
            "prefs": { "intl": { "accept_languages": "de-DE,de" } },
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal")
    };
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "ChromeDriver could not start Chromium ({e}); its log:\n{}",
                driver.log()
            )
        });
    let session_id = client.session_id().await.ok().flatten();
    Browser {
        app,
        base_url,
        client,
        session_id,
        driver,
        shutdown: Some(shutdown),
        server,
        _profile: profile,
    }
}

impl Browser {
    /// The absolute URL of an EMMA path (e.g. `/anmelden`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Opens an EMMA path and waits for the page to load.
    pub async fn visit(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    /// The path of the page the browser shows.
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .path()
            .to_owned()
    }

    /// Waits until the browser shows the page at `path` (e.g. after a form
    /// was submitted or a redirect).
    pub async fn wait_for_path(&self, path: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let current = self.path().await;
            if current == path {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "the browser stayed at {current} instead of reaching {path}; the page:\n{}",
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until an element matching the CSS selector is on the page.
    pub async fn wait_for(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "no {css} on {} ({e}); the page:\n{}",
                self.path().await,
                self.page_text().await
            ),
        }
    }

    /// The elements matching the CSS selector (none is fine).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("looking for {css}: {e}"))
    }

    /// The visible text of the page's body (for failure messages).
    pub async fn page_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Types `value` into the field `name` of the form matching `form_css`.
    pub async fn fill(&self, form_css: &str, name: &str, value: &str) {
        let field = self
            .wait_for(&format!("{form_css} [name=\"{name}\"]"))
            .await;
        field.clear().await.ok();
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("typing into {name}: {e}"));
    }

    /// Chooses the option with this value in the select `name` of the form.
    pub async fn choose(&self, form_css: &str, name: &str, value: &str) {
        self.wait_for(&format!("{form_css} select[name=\"{name}\"]"))
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value} in {name}: {e}"));
    }

    /// Clicks the submit button of the form matching `form_css`.
    pub async fn submit(&self, form_css: &str) {
        let button = self
            .wait_for(&format!(
                "{form_css} button:not([type=button]):not([type=reset]), {form_css} input[type=submit]"
            ))
            .await;
        button
            .click()
            .await
            .unwrap_or_else(|e| panic!("submitting {form_css}: {e}"));
    }

    /// Signs in through the sign-in page's form (what happens next is the
    /// caller's to check).
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.visit("/anmelden").await;
        self.fill("form#sign-in", "email", email).await;
        self.fill("form#sign-in", "password", password).await;
        self.submit("form#sign-in").await;
    }

    /// The name of EMMA's session cookie on this server.
    pub fn session_cookie_name(&self) -> &'static str {
        emma::http::access::session_cookie_name(self.app.app())
    }

    /// The browser's session cookie value, if it has one.
    pub async fn session_cookie(&self) -> Option<String> {
        self.client
            .get_named_cookie(self.session_cookie_name())
            .await
            .ok()
            .map(|c| c.value().to_owned())
    }

    /// A plain GET of an EMMA path from outside the browser, carrying this
    /// session cookie value (no redirects followed): the server's own view.
    pub async fn get_with_session(&self, path: &str, session: &str) -> reqwest::StatusCode {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client")
            .get(self.url(path))
            .header(
                reqwest::header::COOKIE,
                format!("{}={session}", self.session_cookie_name()),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .status()
    }

    /// Saves a PNG of the current page as target/screenshots/`name`.png
    /// (for humans; not committed) and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot written");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Quit Chromium through ChromeDriver, then stop ChromeDriver and EMMA.
        if let Some(id) = &self.session_id {
            self.driver.delete_session(id);
        }
        self.driver.stop();
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.server.abort();
    }
}

/// Where a program is: on PATH, else in /usr/bin. Panics, telling how to
/// install it, when it is nowhere.
fn find_binary(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    let fallback = Path::new("/usr/bin").join(name);
    on_path
        .or_else(|| fallback.is_file().then_some(fallback))
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed: run scripts/test, which installs Chromium and \
                 ChromeDriver (Debian packages chromium and chromium-driver) when they are missing"
            )
        })
}

/// A free TCP port on 127.0.0.1 (free when asked; taken right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// Builds EMMA on the local adapters for a fixed port (its public URL, and
/// so the origin its CSRF check expects, is that address) and serves it.
async fn serve_local() -> (
    TestApp,
    String,
    oneshot::Sender<()>,
    JoinHandle<std::io::Result<()>>,
) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let data_dir = dir.path().to_string_lossy().into_owned();
    let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = Config::from_lookup(|name| match name {
        "EMMA_DATA_DIR" => Some(data_dir.clone()),
        "EMMA_MAIL_FROM" => Some(MAIL_FROM.to_owned()),
        "EMMA_LISTEN" => Some(listen.to_string()),
        _ => None,
    })
    .expect("local configuration");
    let runtime = bootstrap::build(config, Arc::new(SystemClock))
        .await
        .expect("local runtime");
    // The server gets its own view of the same runtime; the test keeps the
    // other to create tenants and users in the same store.
    let served = bootstrap::Runtime {
        app: runtime.app.clone(),
        config: runtime.config.clone(),
        local_blobs: runtime.local_blobs.clone(),
        local_dead_letters: runtime.local_dead_letters.clone(),
        local_store: runtime.local_store.clone(),
        dev_issuer: runtime.dev_issuer.clone(),
    };
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(emma::local::serve(served, listen, async move {
        let _ = stop.await;
    }));
    let base_url = format!("http://{listen}");
    let health = format!("{base_url}/health");
    let deadline = Instant::now() + PATIENCE;
    while reqwest::get(&health).await.is_err() {
        if server.is_finished() {
            panic!("EMMA's local server stopped at start: {:?}", server.await);
        }
        assert!(Instant::now() < deadline, "EMMA did not start on {listen}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let app = TestApp {
        dev_issuer: runtime.dev_issuer.clone().expect("a development issuer"),
        runtime,
        adapters: Adapters::Local,
        data_dir: Some(dir),
    };
    (app, base_url, shutdown, server)
}

/// A ChromeDriver child process on its own port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    async fn start(binary: &Path, folder: &Path) -> Self {
        let port = free_port();
        let log = folder.join("chromedriver.log");
        let log_file = std::fs::File::create(&log).expect("the ChromeDriver log file");
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let mut driver = Driver { child, port, log };
        let status = format!("{}/status", driver.url());
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(reply) = reqwest::get(&status).await
                && reply.status().is_success()
            {
                break;
            }
            if let Ok(Some(exit)) = driver.child.try_wait() {
                panic!(
                    "ChromeDriver exited at start ({exit}); its log:\n{}",
                    driver.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "ChromeDriver did not answer on port {port}; its log:\n{}",
                driver.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Ends a WebDriver session (ChromeDriver quits its Chromium), with a
    /// plain blocking request: this runs in `Drop`, outside async code.
    fn delete_session(&self, id: &str) {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
        let request = format!(
            "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut reply = Vec::new();
            let _ = stream.read_to_end(&mut reply);
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
