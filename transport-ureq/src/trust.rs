//! Which certificate authorities the agent trusts: the roots bundled with ureq, the operating
//! system's, and private ones added from PEM.

use std::io;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// The certificate authorities an agent trusts, to turn into its TLS settings with
/// [`Trust::tls_config`]:
///
/// ```no_run
/// # fn f() -> std::io::Result<()> {
/// let trust = device_grant_ureq::Trust::bundled().add_ca_pem(&std::fs::read("corp-ca.pem")?)?;
/// let agent = device_grant_ureq::agent_config()
///     .tls_config(trust.tls_config())
///     .build()
///     .new_agent();
/// # Ok(())
/// # }
/// ```
///
/// [`agent_config`](crate::agent_config) trusts [`Trust::bundled`] alone.
#[derive(Clone, Debug)]
pub struct Trust {
    base: Base,
    added: Vec<Certificate<'static>>,
}

#[derive(Clone, Debug)]
enum Base {
    /// ureq's bundled Mozilla roots, as ureq keeps them.
    Bundled,
    /// Certificates loaded already (the operating system's), or none.
    Loaded(Vec<Certificate<'static>>),
}

impl Trust {
    /// The Mozilla root certificates bundled with ureq (the preset agent's).
    pub fn bundled() -> Self {
        Trust {
            base: Base::Bundled,
            added: Vec::new(),
        }
    }

    /// The operating system's trust store, loaded now (feature `os-roots`): the certificates
    /// a Linux distribution keeps in `/etc/ssl`, macOS in its keychains, Windows in its
    /// certificate store, private authorities an administrator installed included. As
    /// OpenSSL does, the files named by `SSL_CERT_FILE` and `SSL_CERT_DIR` are read instead
    /// of the system's when either variable is set.
    ///
    /// Fails when no certificate could be loaded (a container without a CA bundle, say).
    #[cfg(feature = "os-roots")]
    pub fn os() -> io::Result<Self> {
        let found = rustls_native_certs::load_native_certs();
        if found.certs.is_empty() {
            let why = found
                .errors
                .first()
                .map_or_else(|| "it is empty".to_owned(), ToString::to_string);
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no certificate in the operating system's trust store: {why}"),
            ));
        }
        let certs = found
            .certs
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect();
        Ok(Trust {
            base: Base::Loaded(certs),
            added: Vec::new(),
        })
    }

    /// Only the certificate authorities added with [`Trust::add_ca_pem`].
    pub fn only_added() -> Self {
        Trust {
            base: Base::Loaded(Vec::new()),
            added: Vec::new(),
        }
    }

    /// Also trusts every certificate in `pem` (one or more `BEGIN CERTIFICATE` blocks; other
    /// blocks, such as keys, are skipped): a private authority, or the one of a proxy that
    /// inspects TLS.
    ///
    /// Fails, with [`io::ErrorKind::InvalidData`], when a block cannot be read or there is no
    /// certificate at all.
    pub fn add_ca_pem(mut self, pem: &[u8]) -> io::Result<Self> {
        let before = self.added.len();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(PemItem::Certificate(cert)) => self.added.push(cert),
                Ok(_) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
        if self.added.len() == before {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "no certificate in the PEM text",
            ));
        }
        Ok(self)
    }

    /// ureq's TLS settings that trust these authorities, with the preset's TLS backend.
    pub fn tls_config(&self) -> TlsConfig {
        let roots = match (&self.base, self.added.is_empty()) {
            (Base::Bundled, true) => RootCerts::WebPki,
            // ureq takes either its bundled roots or a list of certificates: the bundled ones
            // join the list as certificates.
            (Base::Bundled, false) => webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned())
                .chain(self.added.iter().cloned())
                .into(),
            (Base::Loaded(base), _) => base.iter().chain(&self.added).cloned().into(),
        };
        crate::agent::tls_builder().root_certs(roots).build()
    }
}
