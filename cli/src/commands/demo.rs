//! `device-grant demo`: a sign-in against the simulated authorization server, through the
//! same code as `login`.

use std::time::Duration;

use device_grant_sim::{Dialect, Script, Server, ServerConfig};

use crate::args::{ClientArgs, DemoArgs, LoginArgs, LoginOutput, SecretArgs, ServerArgs};
use crate::commands::login;
use crate::exit::{CliError, Failure};
use crate::provider::Provider;

/// How often the simulated server lets the client poll.
const INTERVAL: Duration = Duration::from_secs(1);

/// The resource asked for in the Azure AD v1 dialect.
const DEMO_RESOURCE: &str = "https://management.core.windows.net/";

/// The start URL the AWS demo signs in with.
const DEMO_START_URL: &str = "https://my-sso-portal.awsapps.com/start";

/// Runs the demo.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let dialect = match args.provider {
        None => Dialect::Rfc8628,
        Some(Provider::Microsoft) => Dialect::MicrosoftV2,
        Some(Provider::AzureAdV1) => Dialect::AzureAdV1,
        Some(Provider::Google) => Dialect::Google,
        Some(Provider::Github) => Dialect::GitHub,
        Some(Provider::AwsSso | Provider::AwsBuilderId) => Dialect::AwsSso,
        Some(Provider::Twitch) => Dialect::Twitch,
        Some(Provider::Amazon) => Dialect::Amazon,
        Some(Provider::Salesforce) => Dialect::Salesforce,
        Some(Provider::Yandex) => Dialect::Yandex,
        Some(Provider::Zoho) => Dialect::Zoho,
    };
    let script = if args.manual {
        Script::manual()
    } else {
        Script::approve_after(Duration::from_secs(args.approve_after))
    };
    let server = Server::start(ServerConfig::new(dialect).interval(INTERVAL).script(script))
        .map_err(|e| {
            CliError::new(
                Failure::Other,
                format!("could not start the simulated server on 127.0.0.1 ({e})"),
            )
        })?;

    // AWS registers its client at the server instead of bringing one.
    let registers = dialect == Dialect::AwsSso;
    let login_args = LoginArgs {
        server: ServerArgs {
            provider: args.provider,
            device_endpoint: Some(server.device_endpoint()),
            token_endpoint: Some(server.token_endpoint()),
            start_url: (args.provider == Some(Provider::AwsSso)).then(|| DEMO_START_URL.to_owned()),
            registration_endpoint: registers.then(|| {
                format!(
                    "{}/client/register",
                    server.base_url().trim_end_matches('/')
                )
            }),
            ..ServerArgs::default()
        },
        client: ClientArgs {
            client_id: (!registers).then(|| server.client_id().to_owned()),
            secret: SecretArgs {
                client_secret: server
                    .client_secret()
                    .filter(|_| !registers)
                    .map(str::to_owned),
            },
            scopes: match args.provider {
                Some(Provider::AzureAdV1 | Provider::AwsSso | Provider::AwsBuilderId) => Vec::new(),
                _ => vec!["openid offline_access".to_owned()],
            },
            resource: (args.provider == Some(Provider::AzureAdV1))
                .then(|| DEMO_RESOURCE.to_owned()),
            ..ClientArgs::default()
        },
        output: LoginOutput {
            output: args.output,
            // The server stops with the demo: a cache pointing at it would be of no use.
            cache: None,
            profile: None,
            no_wait: false,
            resume: false,
            no_qr: args.no_qr,
            open: args.open,
            aws_sso_cache: false,
            sso_session: None,
        },
        // The demo keeps no token set for a key to live in.
        dpop: false,
    };

    note!(
        "A simulated authorization server ({}) is listening on {}.",
        args.provider.map_or("RFC 8628", Provider::name),
        server.base_url()
    );
    note!(
        "This is the same as running:\n\n    {}\n",
        equivalent(&login_args)
    );
    if args.manual {
        note!(
            "Open the page below in a browser on this machine and approve (or deny) the request.\n"
        );
    } else {
        note!(
            "A simulated user will approve the request after about {} s (use --manual to do it yourself).\n",
            args.approve_after
        );
    }

    let result = login::run(&login_args);
    let violations = server.referee().violations();
    if violations.is_empty() {
        note!(
            "The simulated server saw {} requests and no protocol violations.",
            server.referee().requests().len()
        );
    } else {
        for v in &violations {
            note!("protocol violation: {v}");
        }
    }
    result
}

/// The `login` command line with the same effect, for people to copy. The client secret of
/// the simulated Google client is named by its variable, not printed.
fn equivalent(args: &LoginArgs) -> String {
    let mut parts = vec!["device-grant login".to_owned()];
    if let Some(p) = args.server.provider {
        parts.push(format!("--provider {}", p.name()));
    }
    if let Some(u) = &args.server.start_url {
        parts.push(format!("--start-url {u}"));
    }
    if let Some(r) = &args.server.registration_endpoint {
        parts.push(format!("--registration-endpoint {r}"));
    }
    if let Some(d) = &args.server.device_endpoint {
        parts.push(format!("--device-endpoint {d}"));
    }
    if let Some(t) = &args.server.token_endpoint {
        parts.push(format!("--token-endpoint {t}"));
    }
    if let Some(id) = &args.client.client_id {
        parts.push(format!("--client-id {id}"));
    }
    for s in &args.client.scopes {
        parts.push(format!("--scope '{s}'"));
    }
    if let Some(r) = &args.client.resource {
        parts.push(format!("--resource {r}"));
    }
    let line = parts.join(" ");
    if args.client.secret.client_secret.is_some() {
        format!("DEVICE_GRANT_CLIENT_SECRET=... {line}")
    } else {
        line
    }
}
