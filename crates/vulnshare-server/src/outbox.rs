//! Notification delivery: subscriptions are matched when an advisory is published or an
//! exposure found, deliveries are enqueued in the same transaction (once per subscription and
//! event), and a background worker on every node claims and sends them — webhooks signed with
//! HMAC-SHA256, retried with exponential backoff, dead-lettered after [`MAX_ATTEMPTS`].

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;
use vulnshare_core::advisory::Advisory;
use vulnshare_core::policy::Actor;
use vulnshare_core::sharing::can_read_advisory;
use vulnshare_core::subscription::{Channel, SubscriptionFilter, webhook_signature};
use vulnshare_core::token::TokenScope;
use vulnshare_store::{Subscription, WriteTx, new_subscription_id};

use crate::AppState;
use crate::error::{AppError, AppResult};

/// Attempts before a delivery is dead-lettered.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a node holds a claimed delivery before others may retry it.
pub const LEASE_SECONDS: i64 = 60;

/// The subscriber as policy sees it, to decide what it may be told.
async fn subscriber(state: &AppState, s: &Subscription) -> AppResult<Option<Actor>> {
    let user = state.store.user(&s.user_id).await?;
    if user.disabled {
        return Ok(None);
    }
    let org = state.store.organization(&s.organization_id).await?;
    Ok(Some(Actor {
        user_id: user.id,
        org_id: org.id,
        org_kind: org.kind,
        membership_active: org.membership.is_active(),
        roles: user.roles,
        scopes: vec![TokenScope::Read],
    }))
}

fn advisory_payload(
    kind: &str,
    advisory: &Advisory,
    extra: serde_json::Value,
) -> serde_json::Value {
    json!({
        "event": kind,
        "advisory": {
            "id": advisory.id, "summary": advisory.summary, "aliases": advisory.aliases,
            "tlp": advisory.tlp, "cvss_vector": advisory.cvss_vector,
            "url": format!("/api/v1/advisories/{}", advisory.id),
        },
        "detail": extra,
    })
}

async fn enqueue(
    tx: &mut WriteTx,
    s: &Subscription,
    kind: &str,
    event_id: &str,
    payload: &serde_json::Value,
    now: Timestamp,
) -> AppResult<()> {
    match s.channel {
        Channel::Webhook | Channel::Email => {
            tx.enqueue(&s.id, kind, event_id, payload, now).await?;
        }
        Channel::Inbox => {
            tx.notify(
                &s.organization_id,
                Some(&s.user_id),
                kind,
                event_id,
                payload,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// Enqueues `advisory.published` for every subscription whose filter matches and whose
/// subscriber may read the advisory under its TLP label.
pub(crate) async fn on_advisory_published(
    state: &AppState,
    tx: &mut WriteTx,
    advisory: &Advisory,
) -> AppResult<()> {
    let case = state.store.case(&advisory.case_id).await?;
    let now = state.clock.now();
    for s in state.store.active_subscriptions(None).await? {
        if !s.filter.matches_advisory(advisory) {
            continue;
        }
        let Some(actor) = subscriber(state, &s).await? else {
            continue;
        };
        if can_read_advisory(Some(&actor), advisory, &case).is_err() {
            continue;
        }
        enqueue(
            tx,
            &s,
            "advisory.published",
            &advisory.id,
            &advisory_payload("advisory.published", advisory, json!({})),
            now,
        )
        .await?;
    }
    Ok(())
}

/// Enqueues `advisory.exposure` for the exposed organization's subscriptions (product filters
/// match their product; purl/CWE/severity filters as for publication).
pub(crate) async fn on_exposure(
    state: &AppState,
    tx: &mut WriteTx,
    org_id: &str,
    product_id: &str,
    advisory: &Advisory,
    detail: serde_json::Value,
) -> AppResult<()> {
    let now = state.clock.now();
    for s in state.store.active_subscriptions(Some(org_id)).await? {
        let wanted = match &s.filter.product_id {
            Some(p) => p == product_id,
            None => s.filter.matches_advisory(advisory),
        };
        if !wanted {
            continue;
        }
        let event_id = format!("{}:{product_id}", advisory.id);
        enqueue(
            tx,
            &s,
            "advisory.exposure",
            &event_id,
            &advisory_payload("advisory.exposure", advisory, detail.clone()),
            now,
        )
        .await?;
    }
    Ok(())
}

/// A subscription request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// webhook or inbox.
    pub channel: Channel,
    /// For webhooks: an http(s) URL.
    #[serde(default)]
    pub url: Option<String>,
    /// What to be told about.
    #[serde(default)]
    pub filter: SubscriptionFilter,
}

/// Creates a subscription for the caller; returns it with the webhook secret (shown once).
pub async fn subscribe(
    state: &AppState,
    actor: &Actor,
    new: NewSubscription,
) -> AppResult<(Subscription, Option<String>)> {
    actor.require_scope(TokenScope::Write)?;
    let filter = new.filter.validate()?;
    if let Some(p) = &filter.product_id {
        let product = state
            .store
            .product(p)
            .await
            .map_err(|_| AppError::field("filter.product_id", "no such product"))?;
        actor
            .can_read_products(&product.organization_id)
            .map_err(|_| AppError::field("filter.product_id", "no such product"))?;
    }
    let (url, secret) = match new.channel {
        Channel::Webhook => {
            let url = new
                .url
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .to_owned();
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || url.len() > 2000 || url.chars().any(char::is_whitespace) {
                return Err(AppError::field(
                    "url",
                    "a webhook needs an http(s) URL of at most 2000 characters",
                ));
            }
            (Some(url), Some(hex::encode(crate::auth::random_bytes())))
        }
        Channel::Inbox => {
            if new.url.is_some() {
                return Err(AppError::field("url", "an inbox subscription has no URL"));
            }
            (None, None)
        }
        Channel::Email => {
            let address = new
                .url
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .trim_start_matches("mailto:")
                .to_ascii_lowercase();
            if !vulnshare_core::user::is_email(&address) {
                return Err(AppError::field(
                    "url",
                    "an e-mail subscription gives an address (name@example.org or mailto:…)",
                ));
            }
            if state.mailer.is_none() {
                return Err(AppError::Conflict("this platform has no SMTP relay configured (serve --smtp-url); use a webhook or the inbox".into()));
            }
            (Some(address), None)
        }
    };
    let now = state.clock.now();
    let s = Subscription {
        id: new_subscription_id(),
        organization_id: actor.org_id.clone(),
        user_id: actor.user_id.clone(),
        channel: new.channel,
        url,
        secret: secret.clone(),
        filter,
        created_at: now,
        disabled_at: None,
    };
    let mut tx = state.store.begin_write().await?;
    tx.create_subscription(&s).await?;
    tx.audit(
        now,
        crate::service::audit_event(
            Some(actor),
            "subscription.create",
            "subscription",
            &s.id,
            json!({"channel": s.channel, "url": s.url, "filter": s.filter}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((s, secret))
}

/// Reads a subscription of the caller's organization.
pub async fn own_subscription(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> AppResult<Subscription> {
    actor.require_scope(TokenScope::Read)?;
    let s = state
        .store
        .subscription(id)
        .await
        .map_err(|_| AppError::NotFound("subscription"))?;
    if s.organization_id != actor.org_id {
        return Err(AppError::NotFound("subscription"));
    }
    Ok(s)
}

/// Switches a subscription off.
pub async fn unsubscribe(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let s = own_subscription(state, actor, id).await?;
    actor.require_scope(TokenScope::Write)?;
    let now = state.clock.now();
    let mut tx = state.store.begin_write().await?;
    tx.disable_subscription(&s.id, now).await?;
    tx.audit(
        now,
        crate::service::audit_event(
            Some(actor),
            "subscription.disable",
            "subscription",
            &s.id,
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    /// Sent and acknowledged with 2xx.
    pub delivered: usize,
    /// Failed, to be retried.
    pub retried: usize,
    /// Failed for the last time.
    pub dead: usize,
    /// Claimed by another node first.
    pub skipped: usize,
}

/// Delivers every due webhook once; safe to run on several nodes at the same time.
pub async fn deliver_due(state: &AppState) -> AppResult<DeliveryReport> {
    deliver_due_with(state, LEASE_SECONDS).await
}

/// [`deliver_due`] with claims held for `lease_seconds` (a delivery claimed by a node that dies
/// is sent again by another node this long after the claim).
pub async fn deliver_due_with(state: &AppState, lease_seconds: i64) -> AppResult<DeliveryReport> {
    let mut report = DeliveryReport::default();
    for id in state.store.due_deliveries(state.clock.now(), 200).await? {
        // Each claim reads the clock afresh, so a long pass never claims with a stale lease.
        let claimed = state
            .store
            .claim_delivery(&id, state.clock.now(), lease_seconds)
            .await?;
        let Some(delivery) = claimed else {
            report.skipped += 1;
            continue;
        };
        let sub = state.store.subscription(&delivery.subscription_id).await?;
        let outcome = match (sub.channel, &sub.url, &sub.secret, sub.disabled_at) {
            (_, _, _, Some(_)) => Err("the subscription was switched off".to_owned()),
            (Channel::Webhook, Some(url), Some(secret), None) => {
                post(
                    url.clone(),
                    secret.clone(),
                    delivery.id.clone(),
                    delivery.event_kind.clone(),
                    delivery.payload.clone(),
                    state.clock.now(),
                )
                .await
            }
            (Channel::Email, Some(address), _, None) => match &state.mailer {
                Some(mailer) => mailer.send(address, &delivery).await,
                None => Err("no SMTP relay is configured".to_owned()),
            },
            _ => Err("the subscription has no address to deliver to".to_owned()),
        };
        let finished = state.clock.now();
        let retry_at = (outcome.is_err()
            && delivery.attempts + 1 < MAX_ATTEMPTS
            && sub.disabled_at.is_none())
        .then(|| finished + SignedDuration::from_secs(30 * (1i64 << delivery.attempts.min(10))));
        let failed = outcome.is_err();
        if !state
            .store
            .finish_delivery(&delivery, outcome, finished, retry_at)
            .await?
        {
            // Our lease ran out and another node owns the delivery now; it records the outcome.
            tracing::warn!(delivery = %delivery.id, "lease expired before the outcome was recorded");
            report.skipped += 1;
            continue;
        }
        match (failed, retry_at) {
            (false, _) => report.delivered += 1,
            (true, Some(_)) => report.retried += 1,
            (true, None) => report.dead += 1,
        }
    }
    Ok(report)
}

/// Sends deliveries by e-mail through an SMTP relay.
#[derive(Clone)]
pub struct Mailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for `smtp://host:port` (plain), `smtp://host?tls=required` (STARTTLS) or
    /// `smtps://host` (TLS), sending from `from`.
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SMTP URL {url:?}: {e}"))?
            .timeout(Some(Duration::from_secs(10)))
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("sender address {from:?}: {e}"))?;
        Ok(Mailer { transport, from })
    }

    async fn send(&self, to: &str, delivery: &vulnshare_store::Delivery) -> Result<(), String> {
        use lettre::AsyncTransport;
        let payload: serde_json::Value =
            serde_json::from_str(&delivery.payload).unwrap_or_default();
        let subject = format!(
            "[vulnshare] {} {}: {}",
            delivery.event_kind,
            payload["advisory"]["id"]
                .as_str()
                .unwrap_or(&delivery.event_id),
            payload["advisory"]["summary"].as_str().unwrap_or("")
        );
        let body = format!(
            "{}\n\nDelivery {}\n\n{}\n",
            subject,
            delivery.id,
            serde_json::to_string_pretty(&payload).unwrap_or_default()
        );
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?)
            .subject(subject.chars().take(200).collect::<String>())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("cannot build the e-mail: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

/// POSTs one delivery with its signature; any 2xx is success.
async fn post(
    url: String,
    secret: String,
    delivery_id: String,
    kind: String,
    body: String,
    now: Timestamp,
) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let signature = webhook_signature(secret.as_bytes(), now.as_second(), body.as_bytes());
        let response = agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "vulnshare-webhook/1")
            .header("X-Vulnshare-Event", &kind)
            .header("X-Vulnshare-Delivery", &delivery_id)
            .header("X-Vulnshare-Signature", &signature)
            .send(body.as_bytes())
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("{url} answered HTTP {status}"))
        }
    })
    .await
    .map_err(|e| format!("delivery task failed: {e}"))?
}

/// Runs [`deliver_due_with`] every `interval` until the process ends, with claims held for
/// `lease_seconds`.
pub fn spawn(
    state: AppState,
    interval: Duration,
    lease_seconds: i64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match deliver_due_with(&state, lease_seconds).await {
                Ok(r) if r != DeliveryReport::default() => tracing::info!(?r, "outbox pass"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox pass failed"),
            }
        }
    })
}
