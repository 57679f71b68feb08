//! A busy topic's history for the demo: a million and more changes per partition, written to the
//! mock cluster in a moment. librdkafka's producer takes about a microsecond a message (seconds for
//! a dozen partitions), so the history goes as Kafka's own wire format instead: one Produce request a
//! partition carrying one gzip-compressed record batch of every change (tiny records, each its own
//! offset), to the partition's leader. The mock keeps it as it keeps any batch; the log end and every
//! offset after it are then where a fleet that ran for weeks has them.

use flate2::Compression;
use flate2::write::GzEncoder;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Appends `count` changes (null keys, `value` each) to `topic`/`partition` of the cluster `client`
/// talks to; returns the partition's log end offset after them.
pub fn append(client: &BaseConsumer, topic: &str, partition: i32, count: i32, value: &[u8]) -> Result<i64, String> {
    let leader = leader_of(client, topic, partition)?;
    let batch = record_batch(count, value)?;
    let request = produce_request(topic, partition, &batch);
    let mut conn = TcpStream::connect(&leader).map_err(|e| format!("{leader}: {e}"))?;
    conn.set_read_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    conn.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    conn.write_all(&request).map_err(|e| format!("{leader}: {e}"))?;
    let mut size = [0u8; 4];
    conn.read_exact(&mut size).map_err(|e| format!("{leader}: {e}"))?;
    let mut body = vec![0u8; i32::from_be_bytes(size).max(0) as usize];
    conn.read_exact(&mut body).map_err(|e| format!("{leader}: {e}"))?;
    let base = produce_answer(&body, topic)?;
    Ok(base + i64::from(count))
}

/// The partition leader's `host:port`, from the cluster's metadata.
fn leader_of(client: &BaseConsumer, topic: &str, partition: i32) -> Result<String, String> {
    let md = client.fetch_metadata(Some(topic), TIMEOUT).map_err(|e| e.to_string())?;
    let leader = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .and_then(|t| t.partitions().iter().find(|p| p.id() == partition))
        .map(|p| p.leader())
        .ok_or_else(|| format!("no leader for {topic}/{partition}"))?;
    md.brokers()
        .iter()
        .find(|b| b.id() == leader)
        .map(|b| format!("{}:{}", b.host(), b.port()))
        .ok_or_else(|| format!("broker {leader} is not in the metadata"))
}

/// Kafka's zig-zag varint.
fn varint(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// CRC-32C (Castagnoli), as record batches carry it: a byte at a time from a table (a batch is
/// megabytes).
fn crc32c(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ 0x82F6_3B78 } else { c >> 1 };
            }
            *e = c;
        }
        t
    });
    !data.iter().fold(!0u32, |crc, &b| {
        table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8)
    })
}

/// A v2 record batch of `count` records (offset deltas 0..count), gzip-compressed.
fn record_batch(count: i32, value: &[u8]) -> Result<Vec<u8>, String> {
    if value.len() > 40 {
        return Err("a history change is at most 40 bytes".into());
    }
    // Each record: its length, then attributes, timestamp delta, offset delta, key (none), value
    // (length, bytes), headers (none). Only the offset delta changes from one to the next; each
    // record is written in one piece (this runs for millions of them), and compressed a chunk at
    // a time: the uncompressed records (megabytes) never sit in memory at once.
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    let mut framed = Vec::with_capacity(64 * 1024);
    let mut value_len = Vec::with_capacity(5);
    varint(&mut value_len, value.len() as i64);
    let mut record = [0u8; 16];
    for i in 0..count {
        // The offset delta's zig-zag varint, by hand: 2i in 7-bit groups.
        let mut z = (i as u64) << 1;
        let mut n = 3;
        while z >= 0x80 {
            record[n] = (z as u8) | 0x80;
            z >>= 7;
            n += 1;
        }
        record[n] = z as u8;
        record[n + 1] = 1; // -1: no key
        let body = n + 2 - 1 + value_len.len() + value.len() + 1;
        record[1] = 0; // attributes
        record[2] = 0; // timestamp delta
        // The record's length (under 64: one byte).
        record[0] = (body as u8) << 1;
        framed.extend_from_slice(&record[..n + 2]);
        framed.extend_from_slice(&value_len);
        framed.extend_from_slice(value);
        framed.push(0); // no headers
        if framed.len() >= 60 * 1024 {
            gz.write_all(&framed).map_err(|e| e.to_string())?;
            framed.clear();
        }
    }
    gz.write_all(&framed).map_err(|e| e.to_string())?;
    let records = gz.finish().map_err(|e| e.to_string())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    // From attributes to the end: what the CRC covers.
    let mut tail = Vec::with_capacity(records.len() + 40);
    tail.extend_from_slice(&1i16.to_be_bytes()); // attributes: gzip
    tail.extend_from_slice(&(count - 1).to_be_bytes()); // last offset delta
    tail.extend_from_slice(&now.to_be_bytes()); // first timestamp
    tail.extend_from_slice(&now.to_be_bytes()); // max timestamp
    tail.extend_from_slice(&(-1i64).to_be_bytes()); // producer id
    tail.extend_from_slice(&(-1i16).to_be_bytes()); // producer epoch
    tail.extend_from_slice(&(-1i32).to_be_bytes()); // base sequence
    tail.extend_from_slice(&count.to_be_bytes());
    tail.extend_from_slice(&records);
    let mut batch = Vec::with_capacity(tail.len() + 21);
    batch.extend_from_slice(&0i64.to_be_bytes()); // base offset (the broker assigns it)
    batch.extend_from_slice(&((tail.len() + 9) as i32).to_be_bytes()); // epoch, magic, crc and the tail
    batch.extend_from_slice(&(-1i32).to_be_bytes()); // partition leader epoch
    batch.push(2); // magic
    batch.extend_from_slice(&crc32c(&tail).to_be_bytes());
    batch.extend_from_slice(&tail);
    Ok(batch)
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as i16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A Produce (v3) request of `batch` to `topic`/`partition`, size-prefixed.
fn produce_request(topic: &str, partition: i32, batch: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(batch.len() + 64);
    r.extend_from_slice(&0i16.to_be_bytes()); // Produce
    r.extend_from_slice(&3i16.to_be_bytes()); // version 3
    r.extend_from_slice(&1i32.to_be_bytes()); // correlation id
    string(&mut r, "opsdeck-demo");
    r.extend_from_slice(&(-1i16).to_be_bytes()); // no transactional id
    r.extend_from_slice(&1i16.to_be_bytes()); // acks: the leader
    r.extend_from_slice(&(TIMEOUT.as_millis() as i32).to_be_bytes());
    r.extend_from_slice(&1i32.to_be_bytes()); // one topic
    string(&mut r, topic);
    r.extend_from_slice(&1i32.to_be_bytes()); // one partition
    r.extend_from_slice(&partition.to_be_bytes());
    r.extend_from_slice(&(batch.len() as i32).to_be_bytes());
    r.extend_from_slice(batch);
    let mut sized = (r.len() as i32).to_be_bytes().to_vec();
    sized.extend_from_slice(&r);
    sized
}

/// The base offset the broker gave the batch, or its error.
fn produce_answer(body: &[u8], topic: &str) -> Result<i64, String> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], String> {
        let s = body
            .get(at..at + n)
            .ok_or_else(|| "a short Produce answer".to_string())?;
        at += n;
        Ok(s)
    };
    let _correlation = take(4)?;
    let _topics = take(4)?;
    let name_len = i16::from_be_bytes(take(2)?.try_into().map_err(|_| "bad answer")?);
    let name = take(name_len.max(0) as usize)?;
    if name != topic.as_bytes() {
        return Err("a Produce answer about another topic".into());
    }
    let _partitions = take(4)?;
    let _partition = take(4)?;
    let error = i16::from_be_bytes(take(2)?.try_into().map_err(|_| "bad answer")?);
    if error != 0 {
        return Err(format!("Produce refused: Kafka error {error}"));
    }
    Ok(i64::from_be_bytes(take(8)?.try_into().map_err(|_| "bad answer")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::ClientConfig;
    use rdkafka::mocking::MockCluster;
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

    #[test]
    fn crc32c_of_the_standard_check_string() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    /// A million changes land in well under a second, and a producer's next change follows them.
    #[test]
    fn a_million_changes_become_the_partitions_history() {
        let mock = MockCluster::new(3).unwrap();
        mock.create_topic("case-sql", 4, 1).unwrap();
        let client: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", mock.bootstrap_servers())
            .create()
            .unwrap();
        let started = std::time::Instant::now();
        for p in 0..4 {
            let end = append(&client, "case-sql", p, 1_000_000 + p * 1000, b"").unwrap();
            assert_eq!(end, i64::from(1_000_000 + p * 1000));
        }
        eprintln!("4 million changes in {:?}", started.elapsed());
        assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
        assert_eq!(client.fetch_watermarks("case-sql", 3, TIMEOUT).unwrap(), (0, 1_003_000));
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", mock.bootstrap_servers())
            .create()
            .unwrap();
        producer
            .send(BaseRecord::<(), [u8]>::to("case-sql").partition(1).payload(&b"{}"[..]))
            .unwrap();
        producer.flush(TIMEOUT).unwrap();
        assert_eq!(client.fetch_watermarks("case-sql", 1, TIMEOUT).unwrap(), (0, 1_001_001));
    }
}
