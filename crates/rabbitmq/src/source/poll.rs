//! One poll: the overview, the nodes and the queues, read side by side; each part succeeds or
//! fails on its own, so a refused part leaves the others shown.

use super::client::{ApiError, Client, segment};
use crate::config::InstanceConfig;
use crate::model::{Node, Overview, Queue, QueuePage, Snapshot};
use std::time::{SystemTime, UNIX_EPOCH};

/// Only the columns the pane shows: a big vhost's full queue objects are megabytes.
pub const QUEUE_COLUMNS: &str = "name,vhost,messages_ready,messages_unacknowledged,consumers,idle_since,durable,auto_delete,arguments,type,state,node,message_stats.publish,message_stats.publish_details.rate,message_stats.deliver_get_details.rate";
pub const NODE_COLUMNS: &str =
    "name,running,mem_used,mem_limit,mem_alarm,disk_free,disk_free_limit,disk_free_alarm,fd_used,fd_total,uptime";
pub const OVERVIEW_COLUMNS: &str = "rabbitmq_version,cluster_name,queue_totals,object_totals";

pub fn overview_path() -> String {
    format!("/api/overview?columns={OVERVIEW_COLUMNS}")
}

pub fn nodes_path() -> String {
    format!("/api/nodes?columns={NODE_COLUMNS}")
}

/// One page of the queues, of `vhost` or of every vhost the user may list.
pub fn queues_path(vhost: Option<&str>, page: u32, page_size: u32) -> String {
    let base = match vhost {
        Some(v) => format!("/api/queues/{}", segment(v)),
        None => "/api/queues".to_string(),
    };
    format!("{base}?page={page}&page_size={page_size}&columns={QUEUE_COLUMNS}")
}

pub async fn poll(client: &Client, inst: &InstanceConfig) -> Snapshot {
    let at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let (overview_path, nodes_path) = (overview_path(), nodes_path());
    let (overview, nodes, queues) = tokio::join!(
        client.get::<Overview>(&overview_path),
        client.get::<Vec<Node>>(&nodes_path),
        queues(client, inst),
    );
    let (queues, queues_cut) = match queues {
        Ok((q, cut)) => (Ok(q), cut),
        Err(e) => (Err(e), false),
    };
    let words = |e: ApiError| e.to_string();
    Snapshot {
        instance: inst.name.clone(),
        at_ms,
        overview: overview.map_err(words),
        nodes: nodes.map_err(words),
        queues: queues.map_err(words),
        queues_cut,
    }
}

/// Every page of queues up to `max_queues`; true when more were left unread.
async fn queues(client: &Client, inst: &InstanceConfig) -> Result<(Vec<Queue>, bool), ApiError> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let p: QueuePage = client
            .get(&queues_path(inst.vhost.as_deref(), page, inst.page_size))
            .await?;
        out.extend(p.items);
        if out.len() >= inst.max_queues {
            let cut = out.len() > inst.max_queues || p.page < p.page_count;
            out.truncate(inst.max_queues);
            return Ok((out, cut));
        }
        if p.page >= p.page_count {
            return Ok((out, false));
        }
        page = p.page + 1;
    }
}

/// One queue, whole (`GET /api/queues/{vhost}/{name}`).
pub async fn read_queue(client: &Client, vhost: &str, name: &str) -> Result<Queue, ApiError> {
    client
        .get(&format!("/api/queues/{}/{}", segment(vhost), segment(name)))
        .await
}
