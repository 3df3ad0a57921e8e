//! Verification shared by the proxy faults that are observed through a
//! real request or connection: try until the effect shows, and after
//! removal check that it no longer does.

use std::future::Future;

use crate::runtime::fault::FaultError;

/// Tries `observe` up to `attempts` times and returns the first effect
/// seen. `unit` names what one attempt sends, for the error message.
pub async fn until_observed<F, Fut>(
    kind: &str,
    listen: std::net::SocketAddr,
    attempts: u32,
    unit: &str,
    mut observe: F,
) -> Result<String, FaultError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<String, String>>,
{
    let mut last = String::new();
    for _ in 0..attempts {
        match observe().await {
            Ok(seen) => return Ok(seen),
            Err(missing) => last = missing,
        }
    }
    Err(FaultError(format!(
        "`{kind}` not observed through {listen} in {attempts} {unit}(s): {last}"
    )))
}

/// Turns one observation made after a fault was removed into the revert's
/// outcome: seeing the effect still is a failure.
pub fn confirm_removed(kind: &str, outcome: Result<String, String>) -> Result<String, FaultError> {
    match outcome {
        Ok(seen) => Err(FaultError(format!(
            "`{kind}` still observed after removal: {seen}"
        ))),
        Err(normal) => Ok(format!("no longer observed: {normal}")),
    }
}
