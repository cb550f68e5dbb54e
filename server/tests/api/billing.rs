//! Metering and billing through the API: a scripted schedule on a paused demo clock billed to the
//! second, a price change mid-month, budgets that alert once and stop at a hard limit, reserved
//! against used, the ledger continued across a restart, and bad input.

use std::time::Duration;

use nuvem_api::billing::{
    BillParams, CapexRequest, Currency, SetBudgetRequest, SetClockRequest, SetPriceRequest,
};
use nuvem_api::ec2::InstanceState;
use nuvem_api::vpc::{CreateNetworkInterfaceRequest, CreatePortForwardRequest, Protocol};
use nuvem_sdk::{Client, Error};
use rust_decimal::Decimal;
use serde_json::json;

use crate::common::{Backend, Cloud};
use crate::on_both_backends;

on_both_backends!(
    a_scripted_schedule_on_the_demo_clock_is_billed_to_the_second,
    a_price_change_mid_month_splits_the_line_and_the_amounts_add_up,
    budget_alerts_fire_once_and_the_hard_limit_stops_instances,
    billing_bad_input_gets_clear_errors,
);

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// Moves the account's paused clock forward by `seconds` metered seconds.
async fn advance(admin: &Client, account: &str, seconds: u64) {
    admin
        .set_clock(
            account,
            &SetClockRequest {
                advance_seconds: Some(seconds),
                ..Default::default()
            },
        )
        .await
        .expect("advance the clock");
}

async fn launch(root: &Client, image: &str, instance_type: &str) -> String {
    let id = root
        .run_instances(
            &serde_json::from_value(json!({"image_id": image, "instance_type": instance_type}))
                .unwrap(),
        )
        .await
        .unwrap()
        .items
        .remove(0)
        .id;
    wait(root, &id, InstanceState::Running).await;
    id
}

async fn wait(root: &Client, id: &str, state: InstanceState) {
    let i = root
        .wait_for_state(id, state, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(i.state, state, "{id}: {}", i.state_reason);
}

fn month() -> BillParams {
    BillParams::default()
}

/// The lecture's schedule, with the clock paused at 3600× and moved by exact steps: what each
/// resource is billed is known to the second.
async fn a_scripted_schedule_on_the_demo_clock_is_billed_to_the_second(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let image = cloud.fake_image("metered-img", None).await;
    let root = cloud.account("lecture").await;
    let admin = &cloud.admin;
    let clock = admin
        .set_clock(
            "lecture",
            &SetClockRequest {
                factor: Some(3600),
                paused: Some(true),
                advance_seconds: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((clock.factor, clock.paused, clock.demo), (3600, true, true));

    // An instance (t3.micro: 1 vCPU, 2 GiB disk): runs 2 h, stopped 30 min, runs 1 h, gone.
    let id = launch(&root, &image, "t3.micro").await;
    advance(admin, "lecture", 7200).await;
    root.stop_instance(&id).await.unwrap();
    wait(&root, &id, InstanceState::Stopped).await;
    advance(admin, "lecture", 1800).await;
    root.start_instance(&id).await.unwrap();
    wait(&root, &id, InstanceState::Running).await;
    advance(admin, "lecture", 3600).await;
    root.terminate_instance(&id).await.unwrap();
    wait(&root, &id, InstanceState::Terminated).await;

    // A port forward for 10 minutes, the internet gateway for 15.
    let eni = root
        .create_network_interface(&CreateNetworkInterfaceRequest {
            subnet_id: None,
            security_group_ids: None,
            description: None,
        })
        .await
        .unwrap();
    let pf = root
        .create_port_forward(&CreatePortForwardRequest {
            protocol: Protocol::Tcp,
            host_port: 20_600,
            interface_id: eni.id.clone(),
            private_port: 80,
        })
        .await
        .unwrap();
    advance(admin, "lecture", 600).await;
    root.delete_port_forward(&pf.id).await.unwrap();
    let vpc = root.list_vpcs().await.unwrap().items.remove(0).id;
    root.set_internet_gateway(&vpc, true).await.unwrap();
    advance(admin, "lecture", 900).await;
    root.set_internet_gateway(&vpc, false).await.unwrap();

    // The reconciler finds nothing to correct: every change came as an event.
    let status = admin.run_reconciler("billing").await.unwrap();
    assert!(status.last_fixed.is_empty(), "{:?}", status.last_fixed);

    let bill = root.get_bill(&month()).await.unwrap();
    let line = |resource: &str, usage: &str| {
        bill.line_items
            .iter()
            .find(|l| l.resource_id == resource && l.usage_type == usage)
            .unwrap_or_else(|| panic!("no {usage} line for {resource}: {bill:#?}"))
            .clone()
    };
    let running = line(&id, "running");
    assert_eq!(running.seconds, 3 * 3600, "{running:?}");
    assert_eq!(running.quantity, d("3"));
    assert_eq!(running.unit_price, d("0.0104"));
    assert_eq!(running.amount, d("0.0312"));
    let disk = line(&id, "disk");
    assert_eq!(disk.seconds, 7200 + 1800 + 3600, "{disk:?}");
    assert_eq!(disk.unit, "GiB-month");
    // 2 GiB × 12600 s of a 730-hour month at 0.08 = 0.000767… → 0.0008.
    assert_eq!(disk.amount, d("0.0008"));
    let forward = line(&pf.id, "exists");
    assert_eq!(forward.seconds, 600);
    assert_eq!(forward.amount, d("0.0008"));
    let gateway = line(&vpc, "exists");
    assert_eq!(gateway.seconds, 900);
    // 0.25 h × 0.045 = 0.01125, half away from zero → 0.0113.
    assert_eq!(gateway.amount, d("0.0113"));
    assert_eq!(bill.line_items.len(), 4, "{bill:#?}");
    let total: Decimal = bill.line_items.iter().map(|l| l.amount).sum();
    assert_eq!(bill.total, total);
    assert_eq!(bill.total, d("0.0441"));
    let by_service: Decimal = bill.by_service.iter().map(|s| s.amount).sum();
    assert_eq!(by_service, bill.total);
    let mark = bill
        .demo_clock
        .clone()
        .expect("marked as made on a demo clock");
    assert_eq!(mark.factor, 3600);
    assert!(mark.note.contains("DEMO"), "{}", mark.note);

    // Prometheus sees the month's cost (refreshed by the reconciler run above).
    let metrics = reqwest::get(format!("{}/metrics", cloud.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"nuvem_billing_accrued_cost{account="lecture",currency="USD",demo="true"} 0.0441"#
        ),
        "{metrics}"
    );

    // The same bill in BRL and as CSV.
    let brl = root
        .get_bill(&BillParams {
            currency: Some("BRL".into()),
            ..month()
        })
        .await
        .unwrap();
    assert_eq!(brl.currency, Currency::Brl);
    assert_eq!(
        brl.line_items
            .iter()
            .find(|l| l.usage_type == "running")
            .unwrap()
            .amount,
        d("0.1716")
    );
    let csv = nuvem_api::billing::bill_csv(&bill);
    assert_eq!(csv.lines().count(), 1 + 4 + 1 + 1, "{csv}");
    assert!(csv.contains(&format!(",{id},running,")), "{csv}");

    // Nothing runs now: the forecast is what accrued.
    let estimate = root.get_estimate(&month()).await.unwrap();
    assert_eq!(estimate.accrued, bill.total);
    assert_eq!(estimate.hourly_rate, Decimal::ZERO);
    assert_eq!(estimate.forecast, bill.total);

    // The operator sees every account and a total; another account has its own, empty bill on
    // real time.
    let other = cloud.account("real-time").await;
    let theirs = other.get_bill(&month()).await.unwrap();
    assert!(
        theirs.line_items.is_empty() && theirs.demo_clock.is_none(),
        "{theirs:#?}"
    );
    let summary = admin.get_bill_summary(&month()).await.unwrap();
    let lecture = summary.items.iter().find(|a| a.account == "lecture");
    assert_eq!(lecture.map(|a| a.total), Some(bill.total), "{summary:#?}");
    assert_eq!(summary.total, summary.items.iter().map(|a| a.total).sum());
    cloud.stop().await;
}

async fn a_price_change_mid_month_splits_the_line_and_the_amounts_add_up(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let image = cloud.fake_image("priced-img", None).await;
    let root = cloud.account("priced").await;
    let admin = &cloud.admin;
    admin
        .set_clock(
            "priced",
            &SetClockRequest {
                paused: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let id = launch(&root, &image, "t3.small").await;
    advance(admin, "priced", 3600).await;
    let price = admin
        .set_price(&SetPriceRequest {
            sku: "ec2.instance.t3.small".into(),
            currency: Currency::Usd,
            unit_price: "0.0333".into(),
            effective_from: None,
        })
        .await
        .unwrap();
    assert_eq!(price.unit_price, d("0.0333"));
    advance(admin, "priced", 7200).await;
    let bill = root.get_bill(&month()).await.unwrap();
    let running: Vec<_> = bill
        .line_items
        .iter()
        .filter(|l| l.resource_id == id && l.usage_type == "running")
        .collect();
    assert_eq!(running.len(), 2, "{bill:#?}");
    assert_eq!(
        (running[0].seconds, running[0].unit_price),
        (3600, d("0.0208"))
    );
    assert_eq!(
        (running[1].seconds, running[1].unit_price),
        (7200, d("0.0333"))
    );
    assert_eq!(running[0].amount, d("0.0208"));
    assert_eq!(running[1].amount, d("0.0666"));
    let sum: Decimal = bill.line_items.iter().map(|l| l.amount).sum();
    assert_eq!(sum, bill.total);
    assert_eq!(
        bill.by_service.iter().map(|s| s.amount).sum::<Decimal>(),
        bill.total
    );
    // The new price is in force in the catalog; the old one stays in the ledger's past.
    let prices = root.list_prices().await.unwrap();
    let now = prices
        .items
        .iter()
        .find(|p| p.sku == "ec2.instance.t3.small" && p.currency == Currency::Usd)
        .unwrap();
    assert_eq!(now.unit_price, d("0.0333"));
    // The estimate runs at the new rate: 0.0333/h plus the disk's.
    let estimate = root.get_estimate(&month()).await.unwrap();
    assert!(estimate.hourly_rate > d("0.0333"), "{estimate:#?}");
    assert!(estimate.forecast > estimate.accrued);

    // A month of a whole instance: CapEx against OpEx from this usage.
    let c = root
        .capex(&CapexRequest {
            currency: Currency::Usd,
            purchase_price: "6000".into(),
            lifetime_months: 60,
            power_watts: 300,
            electricity_price_per_kwh: "0.20".into(),
            server_vcpus: 32,
            month: None,
        })
        .await
        .unwrap();
    assert_eq!(c.owning_per_month, d("143.8"));
    // The running month is compared by its forecast: the instance's 2 vCPUs from its launch
    // (3 metered hours ago) to the month's end.
    let now = root.get_clock(None).await.unwrap().now;
    let (_, end) = nuvem_server::billing::bills::month_window(&c.month).unwrap();
    let hours = Decimal::from((end - now).num_seconds() + 3 * 3600) / Decimal::from(3600);
    assert_eq!(
        c.reserved_vcpu_hours,
        (Decimal::from(2) * hours).round_dp(3).normalize(),
        "{c:#?}"
    );
    assert!(c.renting_per_month < c.owning_per_month && c.verdict.starts_with("Renting"));
    root.terminate_instance(&id).await.unwrap();
    cloud.stop().await;
}

async fn budget_alerts_fire_once_and_the_hard_limit_stops_instances(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let image = cloud.fake_image("budget-img", None).await;
    let root = cloud.account("student").await;
    let admin = &cloud.admin;
    admin
        .set_clock(
            "student",
            &SetClockRequest {
                paused: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // t3.nano: 0.0052/h, with a 1 GiB disk; a budget of 0.01 with a hard limit.
    let id = launch(&root, &image, "t3.nano").await;
    let budget = root
        .set_budget(
            None,
            &SetBudgetRequest {
                amount: "0.01".into(),
                currency: Currency::Usd,
                thresholds: Some(vec![50, 80, 100]),
                hard_limit: Some(true),
            },
        )
        .await
        .unwrap();
    assert!(budget.alerts.is_empty(), "{budget:#?}");

    // An hour: 0.0052 + the disk → above 50 %, below 80 %.
    advance(admin, "student", 3600).await;
    admin.run_reconciler("billing").await.unwrap();
    admin.run_reconciler("billing").await.unwrap();
    let b = root.get_budget(None).await.unwrap();
    assert_eq!(
        b.alerts.iter().map(|a| a.threshold).collect::<Vec<_>>(),
        [50],
        "{b:#?}"
    );
    assert!((50.0..80.0).contains(&b.percent_used), "{b:#?}");

    // Another hour: past 100 % → the 80 and 100 alerts, and the instance is stopped, saying why.
    advance(admin, "student", 3600).await;
    admin.run_reconciler("billing").await.unwrap();
    wait(&root, &id, InstanceState::Stopped).await;
    let stopped = root.get_instance(&id).await.unwrap();
    assert!(
        stopped.state_reason.contains("Budget.HardLimit"),
        "{}",
        stopped.state_reason
    );
    admin.run_reconciler("billing").await.unwrap();
    let b = root.get_budget(None).await.unwrap();
    assert_eq!(
        b.alerts.iter().map(|a| a.threshold).collect::<Vec<_>>(),
        [50, 80, 100],
        "each threshold fires once: {b:#?}"
    );
    let last = &b.alerts[2];
    assert!(
        last.action.contains("hard limit") && last.action.contains(&id),
        "{}",
        last.action
    );
    // Stopped, it accrues no more running time.
    let before = root.get_bill(&month()).await.unwrap();
    advance(admin, "student", 3600).await;
    let after = root.get_bill(&month()).await.unwrap();
    let running = |b: &nuvem_api::billing::Bill| {
        b.line_items
            .iter()
            .filter(|l| l.usage_type == "running")
            .map(|l| l.seconds)
            .sum::<i64>()
    };
    assert_eq!(running(&before), running(&after));
    assert_eq!(running(&after), 2 * 3600);
    root.delete_budget(None).await.unwrap();
    assert!(matches!(
        root.get_budget(None).await,
        Err(Error::Api { status: 404, .. })
    ));
    cloud.stop().await;
}

fn code(r: Result<impl std::fmt::Debug, Error>) -> (u16, String) {
    match r {
        Err(Error::Api {
            status, message, ..
        }) => (status, message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn billing_bad_input_gets_clear_errors(backend: Backend) {
    let Some(cloud) = Cloud::start(backend).await else {
        return;
    };
    let root = cloud.account("careless").await;
    cloud.account("neighbour").await;
    let admin = &cloud.admin;
    let price = |sku: &str, p: &str| SetPriceRequest {
        sku: sku.into(),
        currency: Currency::Usd,
        unit_price: p.into(),
        effective_from: None,
    };
    let cases: Vec<(&str, (u16, String), &str)> = vec![
        (
            "unknown instance type",
            code(admin.set_price(&price("ec2.instance.x9.huge", "1")).await),
            "no instance type",
        ),
        (
            "unknown sku",
            code(admin.set_price(&price("gpu.hours", "1")).await),
            "unknown SKU",
        ),
        (
            "negative",
            code(admin.set_price(&price("ec2.disk", "-0.5")).await),
            "negative",
        ),
        (
            "not a number",
            code(admin.set_price(&price("ec2.disk", "cheap")).await),
            "not a decimal",
        ),
        (
            "past",
            code(
                admin
                    .set_price(&SetPriceRequest {
                        effective_from: Some(chrono::Utc::now() - chrono::Duration::days(1)),
                        ..price("ec2.disk", "0.1")
                    })
                    .await,
            ),
            "in the past",
        ),
        (
            "not operator",
            code(root.set_price(&price("ec2.disk", "0")).await),
            "operator",
        ),
        (
            "future month",
            code(
                root.get_bill(&BillParams {
                    month: Some("2099-01".into()),
                    ..month()
                })
                .await,
            ),
            "future month",
        ),
        (
            "not a month",
            code(
                root.get_bill(&BillParams {
                    month: Some("2026-13".into()),
                    ..month()
                })
                .await,
            ),
            "YYYY-MM",
        ),
        (
            "currency",
            code(
                root.get_bill(&BillParams {
                    currency: Some("EUR".into()),
                    ..month()
                })
                .await,
            ),
            "USD and BRL",
        ),
        (
            "another account's bill",
            code(
                root.get_bill(&BillParams {
                    account: Some("neighbour".into()),
                    ..month()
                })
                .await,
            ),
            "operator",
        ),
        (
            "thresholds out of order",
            code(
                root.set_budget(
                    None,
                    &SetBudgetRequest {
                        amount: "10".into(),
                        currency: Currency::Usd,
                        thresholds: Some(vec![80, 50]),
                        hard_limit: None,
                    },
                )
                .await,
            ),
            "out of order",
        ),
        (
            "zero budget",
            code(
                root.set_budget(
                    None,
                    &SetBudgetRequest {
                        amount: "0".into(),
                        currency: Currency::Usd,
                        thresholds: None,
                        hard_limit: None,
                    },
                )
                .await,
            ),
            "more than zero",
        ),
        (
            "clock factor 0",
            code(
                admin
                    .set_clock(
                        "careless",
                        &SetClockRequest {
                            factor: Some(0),
                            ..Default::default()
                        },
                    )
                    .await,
            ),
            "out of range",
        ),
        (
            "clock factor absurd",
            code(
                admin
                    .set_clock(
                        "careless",
                        &SetClockRequest {
                            factor: Some(1_000_000_000),
                            ..Default::default()
                        },
                    )
                    .await,
            ),
            "out of range",
        ),
        (
            "clock by a non-operator",
            code(
                root.set_clock(
                    "careless",
                    &SetClockRequest {
                        factor: Some(60),
                        ..Default::default()
                    },
                )
                .await,
            ),
            "operator",
        ),
        (
            "clock of no account",
            code(
                admin
                    .set_clock(
                        "nobody",
                        &SetClockRequest {
                            factor: Some(60),
                            ..Default::default()
                        },
                    )
                    .await,
            ),
            "no account",
        ),
    ];
    for (what, (status, message), hint) in cases {
        assert!((400..500).contains(&status), "{what}: {status} {message}");
        assert!(
            message.contains(hint),
            "{what}: {message:?} should mention {hint:?}"
        );
    }
    cloud.stop().await;
}

/// What a guest used is sampled beside what it reserved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_shows_what_was_used_beside_what_was_reserved() {
    let cloud = Cloud::start(Backend::Sqlite).await.expect("sqlite");
    let image = cloud.fake_image("sampled-img", None).await;
    let root = cloud.account("sampled").await;
    let id = launch(&root, &image, "t3.small").await;
    for _ in 0..3 {
        cloud.admin.run_reconciler("billing").await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let usage = root.get_usage(&month()).await.unwrap();
    let item = usage
        .items
        .iter()
        .find(|u| u.resource_id == id)
        .expect("the instance's usage");
    assert_eq!(item.reserved_vcpus, 2);
    assert!(item.samples >= 2, "{item:?}");
    // The simulated guest keeps a quarter of each vCPU busy: 0.5 of the 2 reserved.
    let used = item.used_vcpus_average.expect("sampled");
    assert!((0.4..=0.6).contains(&used), "{item:?}");
    assert!(item.used_memory_mib_average.is_some());
    cloud.stop().await;
}

/// A restart continues what ran: the instance kept running, so the downtime is billed once, and
/// nothing is billed twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_continues_the_ledger_without_double_counting() {
    let cloud = Cloud::start(Backend::Sqlite).await.expect("sqlite");
    let image = cloud.fake_image("restart-img", None).await;
    let root = cloud.account("restarted").await;
    cloud
        .admin
        .set_clock(
            "restarted",
            &SetClockRequest {
                paused: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let pf_eni = root
        .create_network_interface(&CreateNetworkInterfaceRequest {
            subnet_id: None,
            security_group_ids: None,
            description: None,
        })
        .await
        .unwrap();
    let pf = root
        .create_port_forward(&CreatePortForwardRequest {
            protocol: Protocol::Tcp,
            host_port: 20_610,
            interface_id: pf_eni.id.clone(),
            private_port: 22,
        })
        .await
        .unwrap();
    let id = launch(&root, &image, "t3.micro").await;
    advance(&cloud.admin, "restarted", 3600).await;
    let admin_password = cloud.admin_password.clone();
    let (server, _dir) = cloud.restart().await;
    let admin = crate::common::login(&server.url(), "admin", "root", &admin_password).await;
    let root = crate::common::login(
        &server.url(),
        "restarted",
        "root",
        "restarted-root-password",
    )
    .await;
    // The simulated hypervisor forgot its guests with the old process: the compute reconciler
    // found the instance stopped, and billing closed its run then (the clock stood still).
    let i = root.get_instance(&id).await.unwrap();
    assert_eq!(i.state, InstanceState::Stopped, "{}", i.state_reason);
    advance(&admin, "restarted", 1800).await;
    let bill = root.get_bill(&month()).await.unwrap();
    let secs = |rid: &str, usage: &str| {
        bill.line_items
            .iter()
            .filter(|l| l.resource_id == rid && l.usage_type == usage)
            .map(|l| l.seconds)
            .sum::<i64>()
    };
    assert_eq!(secs(&id, "running"), 3600, "{bill:#?}");
    assert_eq!(secs(&id, "disk"), 3600 + 1800);
    // The forward existed throughout, across the restart, once.
    assert_eq!(secs(&pf.id, "exists"), 3600 + 1800);
    server.stop().await;
}
