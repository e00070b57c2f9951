//! Command-line tests: the real `device-grant` binary against the simulated authorization
//! server on 127.0.0.1.

mod aws;
mod cache;
mod conventions;
mod discovery;
mod dpop;
mod harness;
mod help;
mod hostile;
mod lifecycle;
mod login;
mod outcomes;
mod signals;
