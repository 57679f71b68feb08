//! TLS for PostgreSQL (tokio-postgres over rustls), with libpq's meaning of each `sslmode`:
//! `prefer`/`require` encrypt without checking who answers (unless `sslrootcert` is given, when
//! `require` checks the chain as `verify-ca` does), `verify-ca` checks the chain, `verify-full` the
//! chain and the host name. Managed services (RDS for PostgreSQL 15+) refuse connections without TLS.

use crate::conninfo::{RootCerts, SslMode, TlsOptions};
use futures::future::BoxFuture;
use opsdeck_core::config::file::{TEXT_CAP, read_regular};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

/// What tokio-postgres is told, and the connector that carries out the rest.
pub fn wire_mode(mode: SslMode) -> tokio_postgres::config::SslMode {
    use tokio_postgres::config::SslMode as Wire;
    match mode {
        SslMode::Disable => Wire::Disable,
        // libpq's `allow` tries plain text first; tokio-postgres cannot, and `prefer` is the nearest.
        SslMode::Allow | SslMode::Prefer => Wire::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Wire::Require,
    }
}

/// The connector for `options` (reads the CA and client certificate files now, so a bad path is
/// an error at start, not at the first poll).
pub fn connector(options: &TlsOptions) -> Result<MakeRustls, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let verifier = verifier(options, default_root_file(), &provider)?;
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    let config = match &options.client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = pem_certs(cert, "sslcert")?;
            let key_pem = read_regular(key, TEXT_CAP).map_err(|e| format!("sslkey {}: {e}", key.display()))?;
            let key = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|e| format!("sslkey {}: no usable private key ({e})", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("sslcert/sslkey: {e}"))?
        }
    };
    Ok(MakeRustls {
        config: Arc::new(config),
    })
}

fn verifier(
    options: &TlsOptions,
    default_roots: Option<RootCerts>,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    let chain_check = |roots: &RootCerts| -> Result<Arc<dyn ServerCertVerifier>, String> {
        match roots {
            RootCerts::System => {
                let v = rustls_platform_verifier::Verifier::new(provider.clone())
                    .map_err(|e| format!("sslrootcert=system: {e}"))?;
                Ok(Arc::new(v))
            }
            RootCerts::File(path) => {
                let mut store = RootCertStore::empty();
                for cert in pem_certs(path, "sslrootcert")? {
                    store
                        .add(cert)
                        .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                }
                let v = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                    .build()
                    .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                Ok(v)
            }
        }
    };
    let roots = options.root_certs.clone().or(default_roots);
    let needs_roots = |mode: SslMode| {
        roots.as_ref().ok_or_else(|| {
            format!(
                "sslmode={} needs the CA that signed the server's certificate: sslrootcert=FILE \
                 (or sslrootcert=system, or ~/.postgresql/root.crt)",
                mode.name()
            )
        })
    };
    Ok(match options.mode {
        SslMode::VerifyFull => chain_check(needs_roots(SslMode::VerifyFull)?)?,
        SslMode::VerifyCa => Arc::new(ChainOnly(chain_check(needs_roots(SslMode::VerifyCa)?)?)),
        SslMode::Require if options.root_certs.is_some() => {
            Arc::new(ChainOnly(chain_check(needs_roots(SslMode::Require)?)?))
        }
        SslMode::Disable | SslMode::Allow | SslMode::Prefer | SslMode::Require => {
            Arc::new(EncryptOnly(provider.clone()))
        }
    })
}

/// libpq's default CA file, used by the verify modes when `sslrootcert` is not given.
fn default_root_file() -> Option<RootCerts> {
    let path = directories::BaseDirs::new()?.home_dir().join(".postgresql/root.crt");
    path.is_file().then_some(RootCerts::File(path))
}

fn pem_certs(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    // A CA bundle is kilobytes; a FIFO or a device there must not hang or fill the memory.
    let pem = read_regular(path, TEXT_CAP).map_err(|e| format!("{key} {}: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{key} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{key} {}: no PEM certificate in the file", path.display()));
    }
    Ok(certs)
}

/// `verify-ca`: the chain must lead to a trusted CA; the name in the certificate is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<dyn ServerCertVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer`/`require` without a CA: encrypted, but anyone may answer (libpq's documented meaning).
/// The handshake signatures are still checked, so the session is with the certificate's key holder.
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// tokio-postgres's TLS hook, made from one rustls configuration.
#[derive(Clone)]
pub struct MakeRustls {
    config: Arc<ClientConfig>,
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, Self::Error> {
        // tokio-postgres passes "" for a Unix socket, where TLS is never negotiated.
        let name = if domain.is_empty() {
            None
        } else {
            Some(ServerName::try_from(domain.to_string())?)
        };
        Ok(RustlsConnect {
            name,
            config: self.config.clone(),
        })
    }
}

pub struct RustlsConnect {
    name: Option<ServerName<'static>>,
    config: Arc<ClientConfig>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = BoxFuture<'static, io::Result<RustlsStream<S>>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = self
                .name
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "TLS needs a host name"))?;
            let tls = tokio_rustls::TlsConnector::from(self.config)
                .connect(name, stream)
                .await?;
            Ok(RustlsStream(tls))
        })
    }
}

pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM-SHA-256 works without it; SCRAM-SHA-256-PLUS (channel_binding=require) does not.
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    #[test]
    fn the_verify_modes_without_a_ca_say_what_to_add() {
        for mode in [SslMode::VerifyCa, SslMode::VerifyFull] {
            let options = TlsOptions {
                mode,
                ..TlsOptions::default()
            };
            let err = verifier(&options, None, &provider()).unwrap_err();
            assert!(
                err.contains("needs the CA") && err.contains("sslrootcert=FILE"),
                "{err}"
            );
        }
        let encrypt_only = TlsOptions {
            mode: SslMode::Require,
            ..TlsOptions::default()
        };
        assert!(verifier(&encrypt_only, None, &provider()).is_ok());
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        for (path, words) in [
            (dir.path().join("absent.pem"), "No such file"),
            (empty, "no PEM certificate"),
        ] {
            let options = TlsOptions {
                mode: SslMode::VerifyFull,
                root_certs: Some(RootCerts::File(path.clone())),
                client_cert: None,
            };
            let err = connector(&options).err().unwrap();
            assert!(err.contains("sslrootcert") && err.contains(words), "{err}");
        }
    }
}
