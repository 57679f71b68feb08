//! A SASL/PLAIN listener, configured through `pillows.kafka_properties` as an operator would.

use super::env::{peer, unique};
use super::kafka::{create_topic, served, wait_served};
use super::kafka_groups::group_pillow;
use crate::peers::pillows_common::*;
use opsdeck_core::source_error::ErrorKind;
use opsdeck_pillows::source::PillowsBackend;
use std::collections::BTreeMap;

fn sasl(user: &str, password: &str) -> BTreeMap<String, String> {
    [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanisms", "PLAIN"),
        ("sasl.username", user),
        ("sasl.password", password),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn offsets_are_read_over_sasl_plain_with_the_configured_credentials() {
    let plain = peer!("OPSDECK_KAFKA");
    let home = peer!("OPSDECK_KAFKA_HOME");
    let listener = peer!("OPSDECK_KAFKA_SASL");
    let user = peer!("OPSDECK_KAFKA_SASL_USER");
    let password = peer!("OPSDECK_KAFKA_SASL_PASSWORD");
    let (topic, group) = (unique("case-sql"), unique("ucr"));
    create_topic(&plain, &topic, &[&[1]]).await;
    produce(&plain, &topic, 0, 12, 10);
    commit(&plain, &group, &[(&topic, 0, 5)]);

    let mut c = config(&listener, vec![group_pillow(&group, &topic)]);
    c.kafka_properties = sasl(&user, &password);
    let backend = PillowsBackend::new(&c).unwrap();
    let readings = backend.read(&backend.config.pillows).await.unwrap();
    let p = &readings[0].result.as_ref().unwrap()[0];
    assert_eq!((p.committed, p.log_end), (Some(5), Some(12)));
    // The broker served opsdeck on that listener, as the configured user.
    let ours = |s: &super::kafka::Served| s.client() == "opsdeck" && s.api() == "LIST_OFFSETS" && s.names_topic(&topic);
    wait_served(&home, "opsdeck's ListOffsets", &ours).await;
    for s in served(&home).iter().filter(|s| ours(s)) {
        assert_eq!(s.json["listener"], "SASL_PLAINTEXT");
        assert_eq!(s.json["principal"], format!("User:{user}"));
    }

    // A wrong password is an error of the feed, within the timeout.
    let mut wrong = c.clone();
    wrong.kafka_properties = sasl(&user, "not-the-password");
    wrong.timeout = opsdeck_core::config::ConfigDuration::secs(3);
    let err = PillowsBackend::new(&wrong)
        .unwrap()
        .read(&wrong.pillows)
        .await
        .unwrap_err();
    // librdkafka fails the call as a transport failure; the broker's reason comes as an error event.
    assert!(
        err.contains("SASL authentication error: Authentication failed: Invalid username or password"),
        "{err}"
    );
    // ...which makes it a refused login, not a network failure: retried slowly, "check credentials".
    assert_eq!(err.kind, ErrorKind::Unauthorised, "{err}");
    // Without the properties, the SASL listener gives a plaintext client nothing.
    let mut bare = c.clone();
    bare.kafka_properties.clear();
    bare.timeout = opsdeck_core::config::ConfigDuration::secs(3);
    assert!(PillowsBackend::new(&bare).unwrap().read(&bare.pillows).await.is_err());
}
