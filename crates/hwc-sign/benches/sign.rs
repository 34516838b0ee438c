//! Signing throughput: one SDK-HMAC-SHA256 signature of the operation's request, with its
//! stages kept (`sign`) and without (`authorize`, what the client runs on every call).

use criterion::{Criterion, criterion_group, criterion_main};
use hwc_sign::{Credentials, Request, authorize, sign};
use time::macros::datetime;

fn bench_sign(c: &mut Criterion) {
    let credentials = Credentials::new("HPUAEXAMPLEAK0000001", "exampleSecretKey0123456789abcdefEXAMPLESK");
    let headers = [
        ("Content-Type", "application/json"),
        ("X-Project-Id", "0123456789abcdef0123456789abcdef"),
        ("User-Agent", "hwc-workspace-rust/0.1.0"),
    ];
    let body = br#"{"desktop_ids":["d-1111","d-2222"],"sub_resource_type":"DESKTOP_SHARER"}"#;
    let request = Request {
        method: "POST",
        host: "workspace.cn-north-4.myhuaweicloud.com",
        path: "/v2/0123456789abcdef0123456789abcdef/desktop/delete-sub-resources",
        query: &[],
        headers: &headers,
        body,
    };
    let now = datetime!(2024-01-02 03:04:05 UTC);
    c.bench_function("sign delete-sub-resources (every stage kept)", |b| {
        b.iter(|| sign(&credentials, std::hint::black_box(&request), now))
    });
    c.bench_function("authorize delete-sub-resources (what a client sends)", |b| {
        b.iter(|| authorize(&credentials, std::hint::black_box(&request), now))
    });
}

criterion_group!(benches, bench_sign);
criterion_main!(benches);
