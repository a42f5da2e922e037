//! Contract snapshots for the detector: the path, the answer's fields, the
//! cache shared with (but kept apart from) enrichment, and failures.

use super::*;
use crate::rules::rule::Snapshot;

/// Collects the snapshot answers the fetcher sends back.
struct Answers(mpsc::UnboundedSender<ContractSnapshot>);

impl Actor for Answers {
    type Context = Context<Self>;
}

impl Handler<ContractSnapshot> for Answers {
    type Result = ();
    fn handle(&mut self, msg: ContractSnapshot, _: &mut Context<Self>) {
        let _ = self.0.send(msg);
    }
}

fn answers() -> (
    Recipient<ContractSnapshot>,
    mpsc::UnboundedReceiver<ContractSnapshot>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Answers(tx).start().recipient(), rx)
}

fn ask(contract: &str, reply: &Recipient<ContractSnapshot>) -> SnapshotRequest {
    SnapshotRequest {
        contract: contract.into(),
        class: AssetClass::Option,
        feed: Arc::from("options"),
        reply: reply.clone(),
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<ContractSnapshot>) -> ContractSnapshot {
    timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("answered in time")
        .expect("an answer")
}

#[actix::test]
async fn a_snapshot_is_fetched_once_and_read_into_the_rules_fields() {
    let script = Script::new(&[200], 0);
    let rig = rig(config(serve(&script)), Some(KEY));
    let (reply, mut rx) = answers();
    rig.addr.do_send(ask(OPTION, &reply));
    let first = next(&mut rx).await;
    assert_eq!((first.contract.as_str(), &*first.feed), (OPTION, "options"));
    assert_eq!(
        first.snapshot,
        Some(Snapshot {
            open_interest: Some(8921.0),
            day_volume: Some(37.0),
            shares_per_contract: Some(100.0),
            implied_volatility: Some(0.3),
        })
    );
    // The second ask is served from the cache.
    rig.addr.do_send(ask(OPTION, &reply));
    assert_eq!(next(&mut rx).await, first);
    assert_eq!(script.hits(), 1);
    let seen = script.seen.lock().expect("lock").clone();
    assert_eq!(seen[0].0, "/v3/snapshot/options/NVDA/O:NVDA261218C00500000");
    assert_eq!(seen[0].1, format!("Bearer {KEY}"));
}

#[actix::test]
async fn snapshots_and_reference_data_of_one_contract_are_cached_apart() {
    let script = Script::new(&[200], 0);
    let mut rig = rig(config(serve(&script)), Some(KEY));
    let (reply, mut rx) = answers();
    rig.addr.do_send(ask(OPTION, &reply));
    next(&mut rx).await;
    rig.send(1, OPTION);
    let e = rig.next().await;
    assert_eq!(e.status, EnrichStatus::Ok);
    let details = e.details.as_ref().expect("details");
    assert_eq!(details["contract_type"], "call", "{details}");
    assert_eq!(script.hits(), 2);
}

#[actix::test]
async fn a_failed_or_impossible_snapshot_answers_none() {
    let script = Script::new(&[404], 0);
    let rig = rig(config(serve(&script)), Some(KEY));
    let (reply, mut rx) = answers();
    rig.addr.do_send(ask(OPTION, &reply));
    assert_eq!(next(&mut rx).await.snapshot, None);
    // A stock is no contract: refused before any request.
    rig.addr.do_send(ask("NVDA", &reply));
    assert_eq!(next(&mut rx).await.snapshot, None);
    assert_eq!(script.hits(), 1);
}
