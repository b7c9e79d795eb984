use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn raw_get(addr: SocketAddr, target: &str) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // A reset may surface as an error instead of EOF; either way nothing was sent.
    let _ = stream.read_to_end(&mut answer).await;
    answer
}

#[tokio::test]
async fn a_reset_fault_closes_the_connection_without_a_status_line() {
    let config = EmulatorConfig::default().with_records(2);
    let running = spawn(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let token = running
        .token()
        .map(|t| t.expose().to_string())
        .unwrap_or_default();
    let target =
        format!("/api/json/tasks/getrecords?authtoken={token}&portal=demo&department=Support");
    let plain = raw_get(running.addr(), &target).await;
    assert!(plain.starts_with(b"HTTP/1.1 200 OK"));
    let admin = reqwest::Client::new()
        .post(format!("{}/_emulator/faults", running.base_url()))
        .body(r#"{"kind":"reset","next":1}"#)
        .send()
        .await
        .unwrap();
    assert!(admin.status().is_success());
    assert_eq!(raw_get(running.addr(), &target).await, b"");
    running.shutdown().await.unwrap();
}
