//! `device-grant login`: the device flow, from the options to the token on stdout; with
//! `--no-wait`, up to the prompt, stored for `--resume`.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use device_grant::{Flow, Output, Snapshot, TokenResponse};

use crate::args::LoginArgs;
use crate::aws;
use crate::exit::{CliError, Failure, Grant};
use crate::profiles;
use crate::prompt::{self, Reporter};
use crate::settings::{ClientSettings, Needs};
use crate::terminal::Style;
use crate::tokens::{self, Tokens};
use crate::transport::Http;
use crate::{events, output};

/// Runs the sign-in.
pub fn run(args: &LoginArgs) -> Result<(), CliError> {
    let mut server = args.server.clone();
    let mut client = args.client.clone();
    let mut kind = device_grant_store::BackendKind::File;
    if let Some(name) = &args.output.profile {
        let profile = profiles::load(name, !args.output.resume)?;
        kind = profile.store_kind()?;
        profile.apply(&mut server, &mut client);
    }
    // Opened first so nobody approves a request whose token then has nowhere to go.
    let store = tokens::open(
        args.output.profile.as_deref(),
        args.output.cache.as_deref(),
        kind,
    )?;
    if let Some(s) = &store {
        s.check()?;
    }
    if (args.output.no_wait || args.output.resume) && store.is_none() {
        return Err(CliError::usage(
            "--no-wait and --resume keep the pending sign-in in the store: add --profile NAME or --cache FILE",
        ));
    }
    if args.output.resume {
        let secret = client.secret.client_secret.clone();
        let Some(store) = store else {
            return Err(CliError::usage("--resume needs --profile or --cache"));
        };
        return resume(args, &store, secret.as_deref());
    }
    if args.dpop && store.is_none() {
        return Err(CliError::usage(
            "--dpop keeps the key with the tokens, which are useless without it: add --profile NAME or --cache FILE",
        ));
    }
    let http = Http::new();
    // AWS: the registration fills in the client id and secret.
    let aws = aws::Session::prepare(&server, &mut client, &args.output, store.as_ref(), &http)?;
    let secret = client.secret.client_secret.clone();
    let settings = ClientSettings::resolve(&server, &client, Needs::DeviceFlow, &http)?;
    let key = args.dpop.then(crate::dpop::generate).transpose()?;
    let config = settings.config_with_dpop(
        secret.as_deref(),
        &client.params,
        key.as_ref().map(crate::dpop::signer),
    )?;

    let mut reporter = Reporter::new(Style::of_stderr(), !args.output.no_qr, args.output.open);
    if args.output.no_wait {
        let store = store
            .as_ref()
            .ok_or_else(|| CliError::usage("--no-wait needs a store"))?;
        let result = start(config, &mut reporter);
        reporter.finish();
        let snapshot = result?;
        let mut set = store.load()?.unwrap_or_else(|| tokens::new_set(&settings));
        set.set_pending_flow(Some(snapshot.to_value()));
        // The pending sign-in is what this login is about: its settings replace the old.
        *set.client_mut() = tokens::client_info(&settings);
        if let Some(aws) = &aws {
            aws.remember(&mut set);
        }
        store.save(&set)?;
        note!(
            "The pending sign-in is stored in {}. Once the code is entered, run:\n  device-grant login --resume {}",
            store.describe(),
            resume_hint(args)
        );
        return Ok(());
    }
    let result = match &aws {
        None => http.device(config, |event| reporter.on_event(event)),
        Some(aws) => http
            .device_raw(config, |event| reporter.on_event(event))
            .map_err(|e| aws.failed(&e, store.as_ref())),
    };
    reporter.finish();
    let response = result?;
    finish(
        args,
        store.as_ref(),
        &settings,
        &response,
        key.as_deref(),
        aws.as_ref(),
    )
}

/// Stores (first) and prints the token of a finished sign-in.
fn finish(
    args: &LoginArgs,
    store: Option<&Tokens>,
    settings: &ClientSettings,
    response: &TokenResponse,
    dpop_key: Option<&device_grant::Es256Signer>,
    aws: Option<&aws::Session>,
) -> Result<(), CliError> {
    let mut set = tokens::signed_in(settings, response);
    if let Some(aws) = aws {
        aws.remember(&mut set);
    }
    // Stored first and printed next, before any word on stderr: a closed stderr or a
    // Ctrl-C from here on must not lose the token. It is printed even when the store cannot
    // be written; the exit status still reports the store failure.
    if let Some(key) = dpop_key {
        crate::dpop::keep(&mut set, key);
    }
    let stored = store.map(|s| s.save(&set).map(|()| s));
    let aws_cache = aws.map(|a| a.write_sso_cache(&set));
    let printed = output::print_response(response, args.output.output);
    if events::on() {
        events::emit(&events::done_ok(output::expires_at(
            response,
            SystemTime::now(),
        )));
    }
    match response.expires_in() {
        Some(lifetime) => note!(
            "Signed in; the access token is valid for {}.",
            prompt::describe(lifetime)
        ),
        None => note!("Signed in."),
    }
    if dpop_key.is_some() && response.dpop_binding() != device_grant::DpopBinding::Bound {
        note!(
            "warning: the server issued a {} token, not bound to the key (it does not support DPoP)",
            device_grant::display_safe(response.token_type())
        );
    }
    printed?;
    match aws_cache {
        Some(Ok(Some(path))) => note!("Wrote the token for the AWS tools to {}.", path.display()),
        Some(Err(e)) => return Err(e),
        Some(Ok(None)) | None => {}
    }
    match stored {
        Some(Ok(s)) => {
            note!("Stored the token set in {}.", s.describe());
            Ok(())
        }
        Some(Err(e)) => Err(e),
        None => Ok(()),
    }
}

fn resume_hint(args: &LoginArgs) -> String {
    match (&args.output.profile, &args.output.cache) {
        (_, Some(path)) => format!("--cache {}", path.display()),
        (Some(name), None) => format!("--profile {name}"),
        (None, None) => String::new(),
    }
}

/// Sends the device authorization request and returns the flow as a snapshot once the
/// prompt is out.
fn start(config: device_grant::Config, reporter: &mut Reporter) -> Result<Snapshot, CliError> {
    let agent = device_grant_ureq::agent();
    let mut flow = Flow::device(Arc::new(config), Instant::now());
    // The device request, its answer, the prompt, then the first wait: a handful of steps.
    for _ in 0..16 {
        match flow.poll_output() {
            Output::Send { id, request } => {
                let limit = flow.body_limit().saturating_add(1);
                match crate::verbose::send(&agent, request, limit) {
                    Ok(response) => flow.handle_response(id, response, Instant::now()),
                    Err(e) => flow.handle_transport_error(
                        id,
                        device_grant_ureq::error_kind(&e),
                        Instant::now(),
                    ),
                }
                .map_err(|e| CliError::new(Failure::Other, e.to_string()))?;
            }
            Output::Event(event) => reporter.on_event(&event),
            Output::WaitUntil(_) => {
                return flow
                    .snapshot(Instant::now(), SystemTime::now())
                    .map_err(|e| CliError::new(Failure::Other, e.to_string()));
            }
            Output::Done(Err(e)) => return Err(CliError::from_flow(e, Grant::Device, None)),
            Output::Done(Ok(_)) | Output::AwaitResponse(_) | _ => break,
        }
    }
    Err(CliError::new(
        Failure::Other,
        "the sign-in did not reach the point where it waits for the user",
    ))
}

/// Finishes the sign-in a `--no-wait` login stored.
fn resume(args: &LoginArgs, store: &Tokens, secret: Option<&str>) -> Result<(), CliError> {
    let mut set = store.require()?;
    let Some(pending) = set.pending_flow().cloned() else {
        return Err(CliError::cache(format!(
            "there is no pending sign-in in {}; run login --no-wait (or login) first",
            store.describe()
        )));
    };
    let snapshot = Snapshot::from_value(pending).map_err(|e| {
        CliError::cache(format!(
            "the pending sign-in in {} cannot be resumed ({e}); run login again",
            store.describe()
        ))
    })?;
    let settings = tokens::settings_of(&set)?;
    let aws = aws::Session::from_set(&set);
    let secret = aws.as_ref().map(aws::Session::secret).or(secret);
    let config = settings.config(secret, &[])?;
    let (now, wall) = (Instant::now(), SystemTime::now());
    if let Some(prompt) = snapshot.prompt(now, wall) {
        // The user code and page again, in case the first prompt scrolled away; never the
        // device code.
        if events::on() {
            events::emit(&events::user_code(&prompt, wall));
        } else {
            note!("{prompt}");
        }
    }
    let flow = Flow::resume(config, &snapshot, now, wall).map_err(|e| {
        CliError::cache(format!(
            "the pending sign-in in {} cannot be resumed ({e}); run login again",
            store.describe()
        ))
    })?;
    let mut reporter = Reporter::new(Style::of_stderr(), false, false);
    let agent = device_grant_ureq::agent();
    let result = crate::transport::run_flow(flow, &agent, |event| reporter.on_event(event));
    reporter.finish();
    match result {
        Ok(response) => finish(args, Some(store), &settings, &response, None, aws.as_ref()),
        Err(e) => {
            let error = match &aws {
                Some(aws) => aws.failed(&e, Some(store)),
                None => tokens::driver_error(&e, Grant::Device),
            };
            // A denied or expired sign-in cannot be resumed again: clear the slot, keep any
            // tokens an earlier login left.
            if matches!(
                e.flow_error(),
                Some(device_grant::FlowError::Denied(_) | device_grant::FlowError::Expired(_))
            ) {
                set.set_pending_flow(None);
                let _ = store.save(&set);
            }
            Err(error)
        }
    }
}
