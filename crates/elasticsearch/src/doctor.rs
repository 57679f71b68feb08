//! `opsdeck doctor` for Elasticsearch / OpenSearch: every endpoint the pane polls (a refused one
//! names the server's reason), then, when security is on, whether the user holds the cluster
//! privileges the actions write with (Elasticsearch's `_has_privileges`). Nothing is written.

use crate::Elasticsearch;
use crate::model::Flavor;
use crate::source::client::{EsClient, EsError, EsRequest};
use crate::source::{parse, requests};
use futures::future::BoxFuture;
use opsdeck_core::doctor::{Doctor, Finding, Verdict};
use opsdeck_core::pane::{Pane, PaneBackends, PaneConfigs};
use serde_json::json;

const PANE: &str = Elasticsearch::ID.name();

/// What the actions write, the privilege each needs and the keymap actions it gates.
const WRITES: [(&str, &str, &[&str]); 2] = [
    (
        "change allocation",
        "cluster:admin/settings/update",
        &[
            "allocation_all",
            "allocation_primaries",
            "allocation_new_primaries",
            "allocation_none",
            "exclude_spot",
            "drain_node",
            "clear_exclusions",
            "bounce_node",
            "bounce_node_override",
            "change_config",
        ],
    ),
    ("retry failed shards", "cluster:admin/reroute", &["retry_failed"]),
];

impl Doctor for Elasticsearch {
    fn doctor<'a>(_config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let Some(es) = backends.of::<Elasticsearch>() else {
                return Vec::new();
            };
            check(&es.client, es.config.username.as_deref()).await
        })
    }
}

async fn check(client: &EsClient, user: Option<&str>) -> Vec<Finding> {
    let url = client.base_url().trim_end_matches('/').to_string();
    // `GET /` first: a cluster that does not answer costs its timeout once.
    let info = match client.json(&requests::info()).await {
        Ok(v) => v,
        Err(e @ EsError::Status { status: 401, .. }) => {
            return vec![Finding::new(
                PANE,
                url,
                "log in",
                Verdict::Unreachable(format!("refused: {e}")),
            )];
        }
        Err(e) => return vec![Finding::new(PANE, url, "reach", Verdict::Unreachable(e.to_string()))],
    };
    let name = info["cluster_name"].as_str().map(String::from).unwrap_or(url);
    let flavor = serde_json::to_vec(&info)
        .ok()
        .and_then(|b| parse::parse_info(&b).ok())
        .map(|d| d.flavor);
    let line = |what: &str, v: Verdict| Finding::new(PANE, name.clone(), what, v);
    let reads = [
        ("read health", requests::health()),
        ("read node stats", requests::node_stats()),
        ("read nodes", requests::cat_nodes()),
        ("read shards", requests::shards()),
        ("read allocation", requests::allocation()),
        ("read settings", requests::settings()),
        ("read recoveries", requests::recovery()),
    ];
    let answers = futures::future::join_all(reads.iter().map(|(_, req)| client.send(req))).await;
    let mut found: Vec<Finding> = reads
        .iter()
        .zip(answers)
        .map(|((what, req), answer)| line(what, read_verdict(req, answer.map(drop))))
        .collect();
    found.extend(
        check_writes(client, flavor, user)
            .await
            .into_iter()
            .map(|(what, gated, v)| line(what, v).gating(gated)),
    );
    found
}

fn read_verdict(req: &EsRequest, answer: Result<(), EsError>) -> Verdict {
    match answer {
        Ok(()) => Verdict::Ok(String::new()),
        Err(e @ (EsError::Transport(_) | EsError::Timeout(_))) => Verdict::Unreachable(format!("{req}: {e}")),
        Err(e) => Verdict::Missing(format!("{req} refused: {e}")),
    }
}

/// Whether security is on, and if so whether the user holds each privilege in [`WRITES`].
async fn check_writes(
    client: &EsClient,
    flavor: Option<Flavor>,
    user: Option<&str>,
) -> Vec<(&'static str, &'static [&'static str], Verdict)> {
    let all = |v: Verdict| {
        WRITES
            .iter()
            .map(|(what, _, gated)| (*what, *gated, v.clone()))
            .collect::<Vec<_>>()
    };
    let who = user.map(|u| format!(" (user {u})")).unwrap_or_default();
    match flavor {
        Some(Flavor::OpenSearch) => {
            let account = EsRequest::get("/_plugins/_security/api/account");
            match client.json(&account).await {
                Ok(v) => all(Verdict::NotChecked(format!(
                    "security on, roles {}{who}: OpenSearch does not tell a user its permissions; \
                     the operating role needs {}",
                    v["roles"],
                    WRITES.map(|(_, p, _)| p).join(", ")
                ))),
                Err(e) if security_absent(&e) => all(Verdict::Ok("security off: every action permitted".into())),
                Err(e) => all(Verdict::NotChecked(format!("{account}: {e}"))),
            }
        }
        _ => {
            let privileges: Vec<&str> = WRITES.iter().map(|(_, p, _)| *p).collect();
            let ask = EsRequest::post(
                "/_security/user/_has_privileges",
                Some(json!({ "cluster": privileges })),
            );
            match client.json(&ask).await {
                Ok(v) => WRITES
                    .iter()
                    .map(|(what, privilege, gated)| {
                        let holds = v["cluster"][privilege].as_bool() == Some(true);
                        let name = v["username"]
                            .as_str()
                            .map(|u| format!(" (user {u})"))
                            .unwrap_or(who.clone());
                        let verdict = if holds {
                            Verdict::Ok(String::new())
                        } else {
                            Verdict::Missing(format!("{privilege}{name}"))
                        };
                        (*what, *gated, verdict)
                    })
                    .collect(),
                Err(e) if security_absent(&e) => all(Verdict::Ok("security off: every action permitted".into())),
                Err(e) => all(Verdict::NotChecked(format!("{ask}: {e}"))),
            }
        }
    }
}

/// Whether a security API's refusal means there is no security (plugin absent, or disabled).
fn security_absent(e: &EsError) -> bool {
    let EsError::Status { status, reason, .. } = e else {
        return false;
    };
    let reason = reason.to_lowercase();
    matches!(status, 400 | 404 | 500)
        && (reason.contains("no handler found")
            || reason.contains("security must be explicitly enabled")
            || reason.contains("security is not enabled"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_absent_security_api_means_security_off() {
        let status = |status, reason: &str| EsError::Status {
            status,
            kind: None,
            reason: reason.into(),
        };
        assert!(security_absent(&status(
            400,
            "no handler found for uri [/_plugins/_security/api/account] and method [GET]"
        )));
        assert!(security_absent(&status(
            500,
            "Security must be explicitly enabled when using a [basic] license"
        )));
        assert!(!security_absent(&status(
            403,
            "action [cluster:admin/xpack/security/user/has_privileges] is unauthorized"
        )));
        assert!(!security_absent(&EsError::Timeout("5s".into())));
    }

    #[test]
    fn a_refused_read_names_the_request_and_the_reason() {
        let v = read_verdict(
            &requests::node_stats(),
            Err(EsError::Status {
                status: 403,
                kind: Some("security_exception".into()),
                reason: "action [cluster:monitor/nodes/stats] is unauthorized for user [ops-ro]".into(),
            }),
        );
        let Verdict::Missing(why) = v else { panic!("{v:?}") };
        assert!(
            why.contains("/_nodes/stats") && why.contains("cluster:monitor/nodes/stats"),
            "{why}"
        );
    }
}
