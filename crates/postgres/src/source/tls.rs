//! TLS for tokio-postgres over tokio-rustls (aws-lc), with libpq's `sslmode` meanings: `require` encrypts
//! without checking the certificate, `verify-ca` checks the chain against `sslrootcert`, `verify-full` the
//! chain and the host name. Our own small `MakeTlsConnect`: one TLS stack in the tree, no OpenSSL.

use crate::config::{ServerConfig, SslMode};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs, verify_tls12_signature, verify_tls13_signature};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// The rustls client config for `server`'s `sslmode` (`None` for `disable`). Reads the PEM files now, so
/// a missing or bad file is an error at start, not at the first poll.
pub fn client_config(server: &ServerConfig) -> Result<Option<Arc<ClientConfig>>, String> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let chain = match server.sslmode {
        SslMode::Disable => return Ok(None),
        // As libpq: `require` with a root certificate checks the chain, as `verify-ca` does.
        SslMode::Require if server.sslrootcert.is_none() => None,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            let path = server
                .sslrootcert
                .as_ref()
                .ok_or_else(|| format!("sslmode {} needs sslrootcert", server.sslmode.as_str()))?;
            let mut roots = RootCertStore::empty();
            let certs =
                CertificateDer::pem_file_iter(path).map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("sslrootcert {}: no certificate in it", path.display()));
            }
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            Some(webpki)
        }
    };
    let verifier = Arc::new(ModeVerifier {
        provider: provider.clone(),
        chain,
        check_name: server.sslmode == SslMode::VerifyFull,
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&server.sslcert, &server.sslkey) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("sslcert {}: {e}", cert.display()))?;
            if chain.is_empty() {
                return Err(format!("sslcert {}: no certificate in it", cert.display()));
            }
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("sslkey {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("sslcert/sslkey: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Some(Arc::new(config)))
}

/// The certificate check of each `sslmode`. `require` without `sslrootcert` (no `chain`): encrypted, the
/// certificate taken as it comes. `verify-ca` (and `require` with `sslrootcert`): the chain must end in `sslrootcert`, the name is not checked (webpki checks the
/// chain first, so a name error means the chain was good). `verify-full`: chain and name. In every mode
/// the handshake's signatures are checked, so the session key belongs to whoever holds the certificate.
#[derive(Debug)]
struct ModeVerifier {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
}

impl ServerCertVerifier for ModeVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// tokio-postgres's TLS hook over a rustls client config.
#[derive(Clone)]
pub struct MakeRustls(pub Arc<ClientConfig>);

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsConnect> {
        // An IP address is checked against the certificate's IP names, a DNS name against its DNS names.
        let name = ServerName::try_from(domain.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{domain:?}: {e}")))?;
        Ok(RustlsConnect {
            config: self.0.clone(),
            name,
        })
    }
}

pub struct RustlsConnect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move { connector.connect(self.name, stream).await.map(RustlsStream) })
    }
}

pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM without channel binding (`-PLUS` needs the certificate's hash by its signature algorithm).
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

    fn server(mode: SslMode, root: Option<&std::path::Path>) -> ServerConfig {
        let mut s: ServerConfig = serde_json::from_str(r#"{"name": "a", "address": "h", "user": "u"}"#).unwrap();
        s.sslmode = mode;
        s.sslrootcert = root.map(Into::into);
        s
    }

    #[test]
    fn tls_files_that_cannot_be_used_are_said_at_start() {
        assert!(client_config(&server(SslMode::Disable, None)).unwrap().is_none());
        assert!(client_config(&server(SslMode::Require, None)).unwrap().is_some());
        let e = client_config(&server(SslMode::VerifyFull, Some("/nonexistent/ca.pem".as_ref()))).unwrap_err();
        assert!(e.starts_with("sslrootcert /nonexistent/ca.pem: "), "{e}");
        let not_pem = std::env::temp_dir().join(format!("opsdeck-pg-not-pem-{}", std::process::id()));
        std::fs::write(&not_pem, "hello").unwrap();
        let e = client_config(&server(SslMode::VerifyCa, Some(&not_pem))).unwrap_err();
        assert!(e.ends_with("no certificate in it"), "{e}");
        let mut s = server(SslMode::Require, None);
        s.sslcert = Some(not_pem.clone());
        s.sslkey = Some(not_pem.clone());
        let e = client_config(&s).unwrap_err();
        std::fs::remove_file(&not_pem).unwrap();
        assert!(e.starts_with("sslcert ") && e.ends_with("no certificate in it"), "{e}");
    }
}
