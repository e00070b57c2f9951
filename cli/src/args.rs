//! The command line.
//!
//! None of these types derive `Debug`: they hold the client secret.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_STATUS_HELP;
use crate::provider::Provider;

/// The environment variable read for the refresh token by `refresh` without `--cache`.
pub const REFRESH_TOKEN_ENV: &str = "DEVICE_GRANT_REFRESH_TOKEN";

/// Sign in with the OAuth 2.0 device flow (RFC 8628) and keep the token fresh.
#[derive(Parser)]
#[command(name = "device-grant", version, after_help = root_help())]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub tls: TlsArgs,

    #[command(flatten)]
    pub diagnostics: DiagnosticArgs,
}

/// The end of the top-level `--help`: the JSON the command writes, the output style, then
/// the exit statuses.
fn root_help() -> String {
    format!("{ROOT_HELP}\n{EXIT_STATUS_HELP}")
}

/// What goes to stderr besides the prompt.
#[derive(Args, Clone, Copy, Default)]
#[command(next_help_heading = "Diagnostics")]
pub struct DiagnosticArgs {
    /// Log each HTTP exchange on stderr: method, URL, status, time taken, headers and body,
    /// with every token, code, secret and credential header replaced by [redacted]
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Write the sign-in's events to stderr as JSON lines instead of the prompt for people
    /// (for IDEs, agents and TUIs); see JSON EVENTS below
    #[arg(long, global = true)]
    pub json_events: bool,
}

/// Which certificate authorities https endpoints may be signed by.
#[derive(Args, Clone, Default)]
#[command(next_help_heading = "TLS")]
pub struct TlsArgs {
    /// Also trust the certificate authorities in this PEM file (a private CA, or the one of a
    /// proxy that inspects TLS), next to the operating system's trust store. When
    /// SSL_CERT_FILE or SSL_CERT_DIR is set, those are read instead of the system store
    #[arg(long, global = true, value_name = "PEM", env = "SSL_CERT_FILE")]
    pub ca_file: Option<PathBuf>,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Sign in with the device flow and print or store the token
    #[command(after_help = LOGIN_HELP)]
    Login(LoginArgs),
    /// Exchange a refresh token for a new token
    #[command(after_help = REFRESH_HELP)]
    Refresh(RefreshArgs),
    /// Print a valid access token from the cache, refreshing it first when needed
    #[command(after_help = TOKEN_HELP)]
    Token(TokenArgs),
    /// Show whether a profile (or cache) is signed in, until when, and where; never a secret
    Status(StatusArgs),
    /// Delete a profile's (or cache's) tokens, revoking the refresh token at the server when it
    /// has a revocation endpoint
    Logout(LogoutArgs),
    /// Print a DPoP proof for one request to an API, signed with the key of a `login --dpop`
    #[command(after_help = DPOP_PROOF_HELP)]
    DpopProof(DpopProofArgs),
    /// Sign in against a simulated authorization server on 127.0.0.1
    #[command(after_help = DEMO_HELP)]
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Print a shell completion script: bash, zsh, fish or powershell
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
}

/// `completions`.
#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const COMPLETIONS_HELP: &str = "\
Examples:
  device-grant completions bash > ~/.local/share/bash-completion/completions/device-grant
  device-grant completions zsh > \"${fpath[1]}/_device-grant\"
  device-grant completions fish > ~/.config/fish/completions/device-grant.fish
  device-grant completions powershell >> $PROFILE";

const ROOT_HELP: &str = concat!(
    "TOKEN JSON (stdout of login, refresh and token with --output json):\n",
    "  {\"access_token\": \"...\", \"token_type\": \"Bearer\", \"expires_in\": 3599,\n",
    "   \"expires_at\": 1767225600, \"refresh_token\": \"...\", \"scope\": \"a b\", \"id_token\": \"...\"}\n",
    "  expires_at is in Unix seconds, expires_in in seconds from now; both are left out when\n",
    "  the server gave no lifetime. refresh_token (login and refresh only), scope and id_token\n",
    "  appear when there is one.\n",
    "\n",
    "ERROR JSON (stdout, when --output json is given, instead of the token; the message also\n",
    "goes to stderr; without the option a failure leaves stdout empty):\n",
    "  {\"error\": {\"kind\": \"denied\", \"message\": \"...\", \"exit_code\": 3}}\n",
    "  kind: other, usage, denied, expired, server, network, cache or interrupted.\n",
    "\n",
    "JSON EVENTS (stderr, one object per line, with --json-events):\n",
    "  {\"event\": \"user_code\", \"user_code\": \"WDJB-MJHT\", \"verification_uri\": \"https://...\",\n",
    "   \"verification_uri_complete\": \"https://...\" or null, \"expires_in\": 900,\n",
    "   \"expires_at\": \"2026-01-01T00:15:00Z\"}\n",
    "  {\"event\": \"slow_down\", \"interval\": 10.0}\n",
    "  {\"event\": \"back_off\", \"delay\": 5.0, \"cause\": \"...\"}\n",
    "  {\"event\": \"browser\", \"opened\": false, \"message\": \"...\"}\n",
    "  {\"event\": \"done\", \"ok\": true, \"expires_at\": 1767225600}\n",
    "  {\"event\": \"done\", \"ok\": false, \"error\": {\"kind\": ..., \"message\": ..., \"exit_code\": ...}}\n",
    "  Durations are in seconds; no event carries a token, the device code or a secret.\n",
    "  Other lines of stderr are left out. Consumers ignore members and events they do not know.\n",
    "\n",
    "OUTPUT STYLE: the QR code, colours and the live countdown are drawn only when stderr is\n",
    "a terminal, NO_COLOR is unset or empty, and TERM is not \"dumb\"; otherwise stderr gets\n",
    "plain lines.\n",
);

const LOGIN_HELP: &str = "\
The prompt (where to go and the code to enter) goes to stderr; the token goes to stdout.

Profiles: --profile NAME reads [profiles.NAME] from $XDG_CONFIG_HOME/device-grant/config.toml
(or the file DEVICE_GRANT_CONFIG names), whose keys are this command's long option names
with _ for - (provider, tenant, region, instance, start_url, registration_endpoint, issuer,
device_endpoint, token_endpoint, client_id, auth_method, resource, allow_insecure_http), scopes as an array, and store = \"file\" or
\"keyring\". Options on the command line win. The client secret never goes in the file: set
DEVICE_GRANT_CLIENT_SECRET. The tokens are stored under the profile's name.

--no-wait prints the prompt, stores the pending sign-in and exits; --resume (with the same
--profile or --cache) finishes it, polling no earlier than the server allows.

Examples:
  device-grant login --provider microsoft --client-id ID --scope 'User.Read offline_access'
  device-grant login --provider github --client-id ID --scope repo --cache ~/.cache/gh.json
  device-grant login --issuer https://id.example.com --client-id ID --output token

  # Microsoft's dialect at the US Government cloud's endpoints:
  device-grant login --provider microsoft --client-id ID --scope openid \\
    --device-endpoint https://login.microsoftonline.us/common/oauth2/v2.0/devicecode \\
    --token-endpoint https://login.microsoftonline.us/common/oauth2/v2.0/token

  # AWS IAM Identity Center: registers a client (kept with the tokens until it expires) and
  # writes the token where `aws --profile ...` finds it:
  device-grant login --provider aws-sso --start-url https://my-sso-portal.awsapps.com/start \\
    --region eu-west-1 --profile aws --aws-sso-cache

Exit status: 0 success, 2 usage, 3 denied, 4 expired, 5 server error, 6 network, 7 cache.";

const REFRESH_HELP: &str = "\
With --cache, everything comes from the cache file, which is updated in place (the old
refresh token is kept when the server does not send a new one). Without it, name the server
with the same options as login and pass the refresh token in DEVICE_GRANT_REFRESH_TOKEN or,
with --refresh-token-stdin, on stdin.

Examples:
  device-grant refresh --cache ~/.cache/app-token.json
  pass show app/refresh-token |
    device-grant refresh --refresh-token-stdin --provider github --client-id ID

Exit status: 0 success, 2 usage, 5 server error (e.g. refresh token revoked), 6 network, 7 cache.";

const TOKEN_HELP: &str = "\
Examples:
  TOKEN=$(device-grant token --cache ~/.cache/app-token.json) &&
    curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com/
  device-grant token --cache ~/.cache/app-token.json --min-valid 10m

Exit status: 0 success, 2 usage, 5 server error, 6 network, 7 cache (run login first).";

const DPOP_PROOF_HELP: &str = "\
The proof (RFC 9449 §4.2) names the method and the URL (without query and fragment) and
carries the hash of the stored access token (ath); each proof is good for one request. The
key itself is never printed. Print the token first, so that a refresh happens before the
proof is made:

Examples:
  URL=https://api.example.com/me C=~/.cache/app-token.json
  TOKEN=$(device-grant token --cache $C) &&
    curl -H \"Authorization: DPoP $TOKEN\" \\
      -H \"DPoP: $(device-grant dpop-proof --cache $C --url $URL)\" \"$URL\"
  device-grant dpop-proof --cache $C --method POST --url $URL --nonce NONCE_FROM_THE_API

Exit status: 0 success, 2 usage, 7 cache (not signed in, or not with --dpop).";

#[cfg(feature = "demo")]
const DEMO_HELP: &str = "\
The simulated server runs inside this process on 127.0.0.1 and goes away when the command
ends. By default a simulated user approves the request after a few seconds; with --manual,
open the printed page in a browser and approve or deny the request yourself.

Exit status: as for login (0 success, 3 denied, 4 expired, ...).";

/// Where the authorization server is.
#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Authorization server")]
pub struct ServerArgs {
    /// Use this provider's request format and endpoints; explicit endpoints replace the
    /// latter (sovereign clouds, GitHub Enterprise Server, a local test server)
    #[arg(long, value_enum)]
    pub provider: Option<Provider>,

    /// The Microsoft tenant: common, organizations, consumers, a tenant id or a domain
    /// [default: common]
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,

    /// Find the endpoints in this issuer's metadata (/.well-known/openid-configuration, then
    /// /.well-known/oauth-authorization-server)
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,

    /// The region: AWS IAM Identity Center's (`sso_region`) [default: us-east-1], or
    /// Zoho's data centre (us, eu, in, au, jp, ca, sa, uk) [default: us]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Salesforce: the instance, a My Domain such as https://acme.my.salesforce.com or
    /// https://test.salesforce.com for sandboxes [default: https://login.salesforce.com]
    #[arg(long, value_name = "URL")]
    pub instance: Option<String>,

    /// AWS IAM Identity Center: the access portal's start URL (sso_start_url)
    #[arg(long, value_name = "URL")]
    pub start_url: Option<String>,

    /// AWS: the client registration endpoint [default: the region's /client/register]
    #[arg(long, value_name = "URL")]
    pub registration_endpoint: Option<String>,

    /// The device authorization endpoint
    #[arg(long, value_name = "URL")]
    pub device_endpoint: Option<String>,

    /// The token endpoint
    #[arg(long, value_name = "URL")]
    pub token_endpoint: Option<String>,

    /// Allow plain http on hosts other than loopback (codes and tokens then cross the
    /// network in clear text)
    #[arg(long)]
    pub allow_insecure_http: bool,
}

impl ServerArgs {
    /// Whether any option names a server.
    pub fn any(&self) -> bool {
        self.provider.is_some()
            || self.tenant.is_some()
            || self.issuer.is_some()
            || self.region.is_some()
            || self.instance.is_some()
            || self.start_url.is_some()
            || self.registration_endpoint.is_some()
            || self.device_endpoint.is_some()
            || self.token_endpoint.is_some()
            || self.allow_insecure_http
    }
}

/// How the client authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// A public client: only the client id is sent
    None,
    /// client_secret_basic: HTTP Basic authentication
    Basic,
    /// client_secret_post: the secret in the form
    Post,
}

/// Who the client is and what it asks for.
#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Client")]
pub struct ClientArgs {
    /// The client (application) id
    #[arg(long, value_name = "ID", env = "DEVICE_GRANT_CLIENT_ID")]
    pub client_id: Option<String>,

    #[command(flatten)]
    pub secret: SecretArgs,

    /// How to authenticate with the client secret [default: none without a secret; post for
    /// Google, basic for others with one]
    #[arg(long, value_enum, value_name = "METHOD")]
    pub auth_method: Option<AuthMethod>,

    /// A scope to request; repeat the option or separate scopes with spaces
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,

    /// The resource the token is for (Azure AD v1), e.g. https://management.core.windows.net/
    #[arg(long, value_name = "URI")]
    pub resource: Option<String>,

    /// An extra form parameter for the device authorization request (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
}

/// The client secret, from the command line or the environment.
#[derive(Args, Clone, Default)]
pub struct SecretArgs {
    /// The client secret of a confidential client; prefer the environment variable, which
    /// other users cannot see in the process list
    #[arg(
        long,
        value_name = "SECRET",
        env = "DEVICE_GRANT_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
}

/// What goes to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The token response as one JSON object
    Json,
    /// The bare access token
    Token,
}

/// Options of `login` about what to show and where the token goes.
#[derive(Args, Clone)]
#[command(next_help_heading = "Output")]
pub struct LoginOutput {
    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,

    /// Also store the token set in this file (JSON, mode 0600), for `token` and `refresh`
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,

    /// Use the profile NAME: its settings from the configuration file, its tokens in the
    /// store
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Print the prompt, store the pending sign-in (needs --profile or --cache) and exit
    #[arg(long, conflicts_with = "resume")]
    pub no_wait: bool,

    /// Finish the sign-in that `login --no-wait` stored (with the same --profile or --cache)
    #[arg(long)]
    pub resume: bool,

    /// Do not draw a QR code of the verification link
    #[arg(long)]
    pub no_qr: bool,

    /// Open the verification page in the default browser (xdg-open, open or start); only
    /// https pages, or http on loopback
    #[arg(long)]
    pub open: bool,

    /// AWS: also write the token to ~/.aws/sso/cache, where the AWS CLI, boto3 and the Rust
    /// SDK read it (for a profile with the same sso_start_url, or --sso-session)
    #[arg(long)]
    pub aws_sso_cache: bool,

    /// AWS: the sso-session name of ~/.aws/config the cache file is for [default: none, the
    /// file is keyed by the start URL as for legacy profiles]
    #[arg(long, value_name = "NAME", requires = "aws_sso_cache")]
    pub sso_session: Option<String>,
}

/// `login`.
#[derive(Args, Clone)]
pub struct LoginArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: LoginOutput,

    /// Bind the tokens to a new key (DPoP, RFC 9449): every request of the sign-in and of
    /// later refreshes carries a proof signed with it. The key is kept with the token set
    /// (needs --profile or --cache); see `dpop-proof` for calling APIs with it
    #[arg(long, conflicts_with_all = ["no_wait", "resume"], help_heading = "DPoP")]
    pub dpop: bool,
}

/// `refresh`.
#[derive(Args)]
pub struct RefreshArgs {
    /// Read the token set from this file and write the new one back
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,

    /// Refresh the token set of this profile
    #[arg(long, value_name = "NAME", conflicts_with = "refresh_token_stdin")]
    pub profile: Option<String>,

    /// Read the refresh token from stdin instead of DEVICE_GRANT_REFRESH_TOKEN
    #[arg(long, conflicts_with = "cache")]
    pub refresh_token_stdin: bool,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,

    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Which stored token set: a profile, or a cache file.
#[derive(Args, Clone, Default)]
pub struct StoreArgs {
    /// The token set written by `login --cache`
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,

    /// The token set of this profile (see `login --help`)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// `token`.
#[derive(Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Refresh first when the token expires within this time (e.g. 90, 90s, 5m, 1h)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub min_valid: Duration,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Token)]
    pub output: OutputFormat,

    #[command(flatten)]
    pub secret: SecretArgs,
}

/// What `status` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// Lines for people
    Text,
    /// One JSON object
    Json,
}

/// `status`.
#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub output: StatusFormat,
}

/// `logout`.
#[derive(Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub secret: SecretArgs,
}

/// `dpop-proof`.
#[derive(Args)]
pub struct DpopProofArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// The HTTP method of the request the proof is for
    #[arg(long, value_name = "METHOD", default_value = "GET")]
    pub method: String,

    /// The URL of the request the proof is for (query and fragment are left out of the proof)
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// The nonce the API asked for in its DPoP-Nonce header
    #[arg(long, value_name = "NONCE")]
    pub nonce: Option<String>,
}

/// `demo`.
#[cfg(feature = "demo")]
#[derive(Args)]
pub struct DemoArgs {
    /// Approve or deny in a browser yourself instead of the simulated user
    #[arg(long)]
    pub manual: bool,

    /// Seconds until the simulated user approves
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 3,
        conflicts_with = "manual"
    )]
    pub approve_after: u64,

    /// Simulate this provider's dialect instead of plain RFC 8628 (the demo supplies the
    /// scope, resource or secret it needs)
    #[arg(long, value_enum)]
    pub provider: Option<Provider>,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,

    /// Do not draw a QR code of the verification link
    #[arg(long)]
    pub no_qr: bool,

    /// Open the verification page in the default browser
    #[arg(long)]
    pub open: bool,
}

fn parse_param(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE with a non-empty KEY".to_owned()),
    }
}

/// Reads `90` (seconds), `90s`, `5m`, `1h` or a combination such as `1h 30m`.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    // A bare number is seconds, as before; humantime wants a unit.
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| "the number is too large".to_owned());
    }
    humantime::parse_duration(raw)
        .map_err(|e| format!("expected seconds, or a duration such as 90s, 5m or 1h ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("").is_err());
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("-5").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn params() {
        assert_eq!(
            parse_param("audience=https://api=x"),
            Ok(("audience".into(), "https://api=x".into()))
        );
        assert_eq!(parse_param("flag="), Ok(("flag".into(), String::new())));
        assert!(parse_param("=v").is_err());
        assert!(parse_param("novalue").is_err());
    }

    #[test]
    fn scopes_and_params_repeat() {
        let cli = Cli::try_parse_from([
            "device-grant",
            "login",
            "--client-id",
            "c",
            "--scope",
            "a b",
            "--scope",
            "c",
            "--param",
            "k=v",
            "--param",
            "x=y",
        ])
        .unwrap();
        let Command::Login(login) = cli.command else {
            panic!("not login")
        };
        assert_eq!(login.client.scopes, ["a b", "c"]);
        assert_eq!(login.client.params.len(), 2);
        assert_eq!(login.output.output, OutputFormat::Json);
    }
}
