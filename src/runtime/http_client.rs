//! The one way the runtime builds HTTP clients: TLS by rustls on the `ring`
//! provider, which is installed once per process. Without a system TLS
//! library to load, every short command starts faster.

use std::sync::Once;

/// Returns a client builder whose TLS provider is in place.
pub fn builder() -> reqwest::ClientBuilder {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Another part of the process may have installed a provider first;
        // either one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}

/// Describes an error with its causes, which reqwest keeps apart.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds_a_client_with_tls() {
        // Without a provider in place, rustls refuses to build the client.
        assert!(super::builder().https_only(true).build().is_ok());
    }
}
