//! TLS listeners as managed Kafka services have them (MSK, Confluent Cloud, Aiven): `ssl` with the
//! instance's own CA and a client certificate (mutual TLS), and `sasl_ssl` with SCRAM-SHA-512, all
//! configured through `pillows.kafka_properties` as an operator would.

use super::env::{peer, unique};
use super::kafka::{create_topic, served, wait_served};
use super::kafka_groups::group_pillow;
use crate::peers::pillows_common::*;
use opsdeck_core::config::ConfigDuration;
use opsdeck_pillows::source::PillowsBackend;
use std::collections::BTreeMap;

fn properties(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Reads the group's offsets through `listener` with `props`; `Err` is the feed's error.
async fn read_through(
    listener: &str,
    group: &str,
    topic: &str,
    props: BTreeMap<String, String>,
) -> Result<(Option<i64>, Option<i64>), String> {
    let mut c = config(listener, vec![group_pillow(group, topic)]);
    c.kafka_properties = props;
    c.timeout = ConfigDuration::secs(5);
    let backend = PillowsBackend::new(&c)?;
    // As the console's next polls: under load a call can give up (no broker usable within its
    // time) before the handshake has failed at all; the client keeps the reason for a later one.
    let mut failed = String::new();
    for _ in 0..4 {
        let readings = backend.read(&backend.config.pillows).await?;
        match &readings[0].result {
            Ok(p) => return Ok((p[0].committed, p[0].log_end)),
            Err(e) => failed = e.to_string(),
        }
        if !failed.ends_with("brokers are down") {
            break;
        }
    }
    Err(failed)
}

#[tokio::test(flavor = "multi_thread")]
async fn offsets_are_read_over_mutual_tls_with_a_private_ca() {
    let plain = peer!("OPSDECK_KAFKA");
    let home = peer!("OPSDECK_KAFKA_HOME");
    let listener = peer!("OPSDECK_KAFKA_SSL");
    let ca = peer!("OPSDECK_KAFKA_TLS_CA");
    let cert = peer!("OPSDECK_KAFKA_TLS_CERT");
    let key = peer!("OPSDECK_KAFKA_TLS_KEY");
    let (topic, group) = (unique("case-sql"), unique("ucr"));
    create_topic(&plain, &topic, &[&[1]]).await;
    produce(&plain, &topic, 0, 9, 10);
    commit(&plain, &group, &[(&topic, 0, 4)]);

    let tls = [
        ("security.protocol", "ssl"),
        ("ssl.ca.location", ca.as_str()),
        ("ssl.certificate.location", cert.as_str()),
        ("ssl.key.location", key.as_str()),
    ];
    assert_eq!(
        read_through(&listener, &group, &topic, properties(&tls)).await,
        Ok((Some(4), Some(9)))
    );
    // The broker served opsdeck on the TLS listener, as the client certificate's subject.
    let ours = |s: &super::kafka::Served| s.client() == "opsdeck" && s.api() == "LIST_OFFSETS" && s.names_topic(&topic);
    wait_served(&home, "opsdeck's ListOffsets over TLS", &ours).await;
    for s in served(&home).iter().filter(|s| ours(s)) {
        assert_eq!(s.json["listener"], "SSL");
        assert!(
            s.json["principal"].as_str().is_some_and(|p| p.contains("CN=opsdeck")),
            "{}",
            s.json
        );
    }

    // Without the client certificate the broker (ssl.client.auth=required) ends the handshake;
    // without the CA, the broker's certificate cannot be verified: both are the feed's errors.
    let no_cert = read_through(&listener, &group, &topic, properties(&tls[..2]))
        .await
        .unwrap_err();
    assert!(no_cert.contains("SSL") || no_cert.contains("ssl"), "{no_cert}");
    let no_ca = read_through(&listener, &group, &topic, properties(&[tls[0], tls[2], tls[3]]))
        .await
        .unwrap_err();
    assert!(no_ca.contains("certificate verify failed"), "{no_ca}");
    // Plaintext to the TLS listener: the broker hangs up, which librdkafka logs only at info.
    let plaintext = read_through(&listener, &group, &topic, BTreeMap::new())
        .await
        .unwrap_err();
    assert!(plaintext.contains("Disconnected"), "{plaintext}");
}

#[tokio::test(flavor = "multi_thread")]
async fn offsets_are_read_over_sasl_ssl_with_scram_sha_512() {
    let plain = peer!("OPSDECK_KAFKA");
    let home = peer!("OPSDECK_KAFKA_HOME");
    let listener = peer!("OPSDECK_KAFKA_SASL_SSL");
    let ca = peer!("OPSDECK_KAFKA_TLS_CA");
    let user = peer!("OPSDECK_KAFKA_SCRAM_USER");
    let password = peer!("OPSDECK_KAFKA_SCRAM_PASSWORD");
    let (topic, group) = (unique("case-sql"), unique("ucr"));
    create_topic(&plain, &topic, &[&[1]]).await;
    produce(&plain, &topic, 0, 6, 10);
    commit(&plain, &group, &[(&topic, 0, 2)]);

    let scram = |password: &str| {
        properties(&[
            ("security.protocol", "sasl_ssl"),
            ("ssl.ca.location", &ca),
            ("sasl.mechanisms", "SCRAM-SHA-512"),
            ("sasl.username", &user),
            ("sasl.password", password),
        ])
    };
    assert_eq!(
        read_through(&listener, &group, &topic, scram(&password)).await,
        Ok((Some(2), Some(6)))
    );
    let ours = |s: &super::kafka::Served| s.client() == "opsdeck" && s.api() == "LIST_OFFSETS" && s.names_topic(&topic);
    wait_served(&home, "opsdeck's ListOffsets over SASL_SSL", &ours).await;
    for s in served(&home).iter().filter(|s| ours(s)) {
        assert_eq!(s.json["listener"], "SASL_SSL");
        assert_eq!(s.json["principal"], format!("User:{user}"));
    }

    let wrong = read_through(&listener, &group, &topic, scram("not-the-password"))
        .await
        .unwrap_err();
    assert!(wrong.contains("Authentication failed"), "{wrong}");
}
