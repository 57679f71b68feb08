//! DynamoDB against moto: tables, billing modes, indexes, and raising provisioned capacity.

use super::harness::*;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ProvisionedThroughput, ScalarAttributeType,
};
use opsdeck_core::action::OutcomeResult;
use opsdeck_queues::actions::raise_capacity_plan;
use std::collections::HashMap;

fn throughput(r: i64, w: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(r)
        .write_capacity_units(w)
        .build()
        .unwrap()
}

pub async fn create_tables(aws: &opsdeck_queues::source::AwsBackend) {
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    aws.dynamodb
        .create_table()
        .table_name("TileIndex")
        .attribute_definitions(attr("id"))
        .attribute_definitions(attr("chunk"))
        .key_schema(key("id", KeyType::Hash))
        .provisioned_throughput(throughput(5, 5))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-chunk")
                .key_schema(key("chunk", KeyType::Hash))
                .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                .provisioned_throughput(throughput(5, 5))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    aws.dynamodb
        .create_table()
        .table_name("idIndex")
        .attribute_definitions(attr("id"))
        .key_schema(key("id", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn tables_are_read_and_capacity_is_raised_and_verified() {
    let moto = Moto::start().await;
    let mut cfg = aws_config(&moto.endpoint);
    cfg.tables = vec!["TileIndex".into(), "idIndex".into(), "NoSuchTable".into()];
    let aws = backend(&cfg).await;
    create_tables(&aws).await;
    let poll = aws.poll(&mut HashMap::new()).await.expect("poll");
    let names: Vec<&str> = poll.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["NoSuchTable", "TileIndex", "idIndex"]);
    let missing = poll.tables[0].error.as_deref().unwrap();
    assert!(missing.contains("ResourceNotFoundException"), "{missing}");
    let tile = &poll.tables[1];
    assert_eq!(tile.billing_mode, "PROVISIONED");
    assert_eq!((tile.capacity.rcu, tile.capacity.wcu), (Some(5), Some(5)));
    assert_eq!(tile.gsis[0].name, "by-chunk");
    assert_eq!(tile.gsis[0].capacity.wcu, Some(5));
    let on_demand = &poll.tables[2];
    assert_eq!(on_demand.billing_mode, "PAY_PER_REQUEST");
    assert_eq!(on_demand.capacity.rcu, None);
    // moto accepts throughput on on-demand tables (AWS does not): our guard refuses it first.
    assert!(
        raise_capacity_plan(on_demand, None, 10, 10)
            .unwrap_err()
            .contains("on-demand")
    );

    let plan = raise_capacity_plan(tile, None, 10, 20).unwrap();
    assert!(plan.description.contains("5 -> 10 RCU") && plan.description.contains("5 -> 20 WCU"));
    let (outcome, _) = execute(plan, &aws).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    let plan = raise_capacity_plan(tile, Some("by-chunk"), 5, 40).unwrap();
    let (outcome, _) = execute(plan, &aws).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    let t = aws.table_info("TileIndex".into()).await;
    assert_eq!((t.capacity.rcu, t.capacity.wcu), (Some(10), Some(20)));
    assert_eq!((t.gsis[0].capacity.rcu, t.gsis[0].capacity.wcu), (Some(5), Some(40)));
}
