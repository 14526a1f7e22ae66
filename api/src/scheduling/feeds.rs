//! External iCalendar feeds: a person or an organisation registers a feed URL
//! (a school's timetable, a clinic's booking system); its events become busy
//! time. A background worker fetches each feed on a schedule and anyone who
//! manages it can fetch it at once. A failed fetch keeps the last good copy
//! and records why it failed, so planning goes on with slightly old data and
//! shows its age.
//!
//! Feed URLs come from users, so fetching one must not become a way into the
//! server's own network: in production only `https` to public addresses is
//! fetched (checked again at every redirect), with a time limit and a size
//! limit.

use std::{net::IpAddr, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use entity::{calendar_feed, external_busy, tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait, sea_query::Expr,
};
use tokio::sync::watch;
use uuid::Uuid;

use super::ics;
use crate::error::AppResult;

/// How feeds are fetched.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// Time between scheduled fetches of a feed.
    pub refresh: StdDuration,
    /// Fetch plain `http` and private, loopback and link-local addresses
    /// (development and tests); production fetches only public `https`.
    pub allow_private: bool,
    /// Time limit of one fetch.
    pub timeout: StdDuration,
    /// Largest feed accepted.
    pub max_bytes: usize,
    /// How often the worker looks for feeds that are due.
    pub poll: StdDuration,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            refresh: StdDuration::from_secs(30 * 60),
            allow_private: false,
            timeout: StdDuration::from_secs(10),
            max_bytes: 5 * 1024 * 1024,
            poll: StdDuration::from_secs(30),
        }
    }
}

/// Busy time is imported from a day back to this many days ahead.
pub const HORIZON_DAYS: i64 = 400;
/// Redirects followed (each checked like the first address).
const MAX_REDIRECTS: usize = 3;

/// An HTTP client for feeds: no automatic redirects (each is checked).
pub fn client(config: &FeedConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("family-services-api calendar import")
        .build()
        .unwrap_or_default()
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                // 100.64.0.0/10, carrier-grade NAT.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link local.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

/// Checks a feed address and returns it normalised (`webcal:` becomes
/// `https:`), or a readable reason it cannot be used.
pub async fn check_url(config: &FeedConfig, text: &str) -> Result<reqwest::Url, String> {
    let text = text.trim();
    let text = match text.strip_prefix("webcal://") {
        Some(rest) => format!("https://{rest}"),
        None => text.to_owned(),
    };
    let url = reqwest::Url::parse(&text).map_err(|_| "This is not a web address.".to_owned())?;
    match url.scheme() {
        "https" => {}
        "http" if config.allow_private => {}
        _ => return Err("Use an https:// (or webcal://) address.".to_owned()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Leave user names and passwords out of the address.".to_owned());
    }
    let host = url
        .host_str()
        .ok_or_else(|| "The address has no host.".to_owned())?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| format!("The host {host} cannot be found."))?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() {
        return Err(format!("The host {host} cannot be found."));
    }
    if !config.allow_private && !addresses.into_iter().all(is_public) {
        return Err(format!("The host {host} is not on the public internet."));
    }
    Ok(url)
}

/// Fetches a feed's text, following a few checked redirects.
pub async fn fetch(
    config: &FeedConfig,
    client: &reqwest::Client,
    address: &str,
) -> Result<String, String> {
    let mut url = check_url(config, address).await?;
    for _ in 0..=MAX_REDIRECTS {
        let mut response = client
            .get(url.clone())
            .header("accept", "text/calendar, */*;q=0.5")
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "The calendar did not answer in time.".to_owned()
                } else {
                    "The calendar cannot be reached.".to_owned()
                }
            })?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| "The calendar redirects nowhere.".to_owned())?;
            url = check_url(config, location.as_str()).await?;
            continue;
        }
        if !status.is_success() {
            return Err(format!("The calendar answered HTTP {}.", status.as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| "The calendar stopped sending halfway.".to_owned())?
        {
            if body.len() + chunk.len() > config.max_bytes {
                return Err(format!(
                    "The calendar is larger than {} MB.",
                    config.max_bytes / (1024 * 1024)
                ));
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(String::from_utf8_lossy(&body).into_owned());
    }
    Err("The calendar redirects too many times.".to_owned())
}

/// The busy periods a feed's text holds around `now`, in the tenant's zone.
pub fn parse(text: &str, zone: Tz, now: DateTime<Utc>) -> Result<Vec<ics::BusyBlock>, String> {
    ics::busy_blocks(
        text,
        zone,
        now - Duration::days(1),
        now + Duration::days(HORIZON_DAYS),
    )
    .map_err(|e| e.to_string())
}

async fn zone_of(db: &DatabaseConnection, tenant_id: Uuid) -> AppResult<Tz> {
    Ok(tenant::Entity::find_by_id(tenant_id)
        .one(db)
        .await?
        .and_then(|t| t.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC))
}

/// Replaces a feed's busy time with `blocks`, in one transaction.
async fn store(
    db: &DatabaseConnection,
    feed: &calendar_feed::Model,
    blocks: Vec<ics::BusyBlock>,
    now: DateTime<Utc>,
    next: DateTime<Utc>,
) -> AppResult<calendar_feed::Model> {
    let txn = db.begin().await?;
    external_busy::Entity::delete_many()
        .filter(external_busy::Column::FeedId.eq(feed.id))
        .exec(&txn)
        .await?;
    let count = blocks.len();
    let rows: Vec<external_busy::ActiveModel> = blocks
        .into_iter()
        .map(|b| external_busy::ActiveModel {
            id: Set(Uuid::now_v7()),
            feed_id: Set(feed.id),
            starts_at: Set(b.start),
            ends_at: Set(b.end),
        })
        .collect();
    for chunk in rows.chunks(500) {
        external_busy::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    let mut active = feed.clone().into_active_model();
    active.last_attempt_at = Set(Some(now));
    active.last_success_at = Set(Some(now));
    active.last_error = Set(None);
    active.busy_count = Set(i32::try_from(count).unwrap_or(i32::MAX));
    active.next_fetch_at = Set(next);
    let saved = active.update(&txn).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Fetches a feed now: on success its busy time is replaced; on failure the
/// last good copy stays and the reason is recorded (and the next scheduled
/// attempt comes sooner).
pub async fn refresh(
    db: &DatabaseConnection,
    config: &FeedConfig,
    client: &reqwest::Client,
    feed: &calendar_feed::Model,
) -> AppResult<calendar_feed::Model> {
    let zone = zone_of(db, feed.tenant_id).await?;
    let now = Utc::now();
    let refresh = Duration::from_std(config.refresh).unwrap_or(Duration::minutes(30));
    let outcome = match fetch(config, client, &feed.url).await {
        Ok(text) => parse(&text, zone, now),
        Err(reason) => Err(reason),
    };
    match outcome {
        Ok(blocks) => store(db, feed, blocks, now, now + refresh).await,
        Err(reason) => {
            tracing::info!(feed = %feed.id, %reason, "calendar feed fetch failed; keeping the last good copy");
            let mut active = feed.clone().into_active_model();
            active.last_attempt_at = Set(Some(now));
            active.last_error = Set(Some(reason.chars().take(500).collect()));
            active.next_fetch_at = Set(now + (refresh / 4).max(Duration::minutes(1)));
            Ok(active.update(db).await?)
        }
    }
}

/// Fetches a new feed's text and parses it, before anything is stored.
pub async fn try_first_fetch(
    db: &DatabaseConnection,
    config: &FeedConfig,
    client: &reqwest::Client,
    tenant_id: Uuid,
    url: &str,
) -> AppResult<Result<Vec<ics::BusyBlock>, String>> {
    let zone = zone_of(db, tenant_id).await?;
    Ok(match fetch(config, client, url).await {
        Ok(text) => parse(&text, zone, Utc::now()),
        Err(reason) => Err(reason),
    })
}

/// Stores a new feed with the busy time of its first fetch.
pub async fn create(
    db: &DatabaseConnection,
    config: &FeedConfig,
    mut feed: calendar_feed::Model,
    blocks: Vec<ics::BusyBlock>,
) -> AppResult<calendar_feed::Model> {
    let now = Utc::now();
    let refresh = Duration::from_std(config.refresh).unwrap_or(Duration::minutes(30));
    // Not due before it is stored with its busy time.
    feed.next_fetch_at = now + refresh;
    let created = feed.into_active_model().insert(db).await?;
    store(db, &created, blocks, now, now + refresh).await
}

/// Removes a feed and its busy time.
pub async fn remove(db: &DatabaseConnection, feed_id: Uuid) -> AppResult<()> {
    let txn = db.begin().await?;
    external_busy::Entity::delete_many()
        .filter(external_busy::Column::FeedId.eq(feed_id))
        .exec(&txn)
        .await?;
    calendar_feed::Entity::delete_by_id(feed_id)
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// One pass: claims the feeds that are due (a conditional update, so two
/// processes never fetch the same feed) and fetches each.
pub async fn refresh_due(
    db: &DatabaseConnection,
    config: &FeedConfig,
    client: &reqwest::Client,
) -> AppResult<usize> {
    let now = Utc::now();
    let due = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::NextFetchAt.lte(now))
        .order_by_asc(calendar_feed::Column::NextFetchAt)
        .limit(20)
        .all(db)
        .await?;
    let lease = now + Duration::from_std(config.timeout * 3).unwrap_or(Duration::minutes(1));
    let mut fetched = 0;
    for feed in due {
        let claimed = calendar_feed::Entity::update_many()
            .col_expr(calendar_feed::Column::NextFetchAt, Expr::value(lease))
            .filter(calendar_feed::Column::Id.eq(feed.id))
            .filter(calendar_feed::Column::NextFetchAt.eq(feed.next_fetch_at))
            .exec(db)
            .await?;
        if claimed.rows_affected == 1 {
            let mut claimed_feed = feed;
            claimed_feed.next_fetch_at = lease;
            refresh(db, config, client, &claimed_feed).await?;
            fetched += 1;
        }
    }
    Ok(fetched)
}

/// Runs the scheduled fetcher until `shutdown` turns true.
pub async fn run_worker(
    db: DatabaseConnection,
    config: FeedConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = client(&config);
    loop {
        if let Err(error) = refresh_due(&db, &config, &client).await {
            tracing::warn!(error = %error.message(), "calendar feed pass failed");
        }
        tokio::select! {
            _ = shutdown.wait_for(|down| *down) => return,
            () = tokio::time::sleep(config.poll) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_count_as_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                !is_public(private.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
                "{private}"
            );
        }
        for public in ["193.10.0.1", "2a00:1450:4001::1"] {
            assert!(
                is_public(public.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
                "{public}"
            );
        }
    }

    #[tokio::test]
    async fn production_fetches_only_public_https() {
        let production = FeedConfig::default();
        for (address, reason) in [
            ("http://example.org/a.ics", "https://"),
            ("ftp://example.org/a.ics", "https://"),
            ("https://user:pw@example.org/a.ics", "passwords"),
            ("https://127.0.0.1/a.ics", "public internet"),
            ("webcal://localhost/a.ics", "public internet"),
            ("not a url", "not a web address"),
        ] {
            let refused = check_url(&production, address).await;
            assert!(
                refused.as_ref().is_err_and(|r| r.contains(reason)),
                "{address}: {refused:?}"
            );
        }
        let development = FeedConfig {
            allow_private: true,
            ..FeedConfig::default()
        };
        let allowed = check_url(&development, "webcal://127.0.0.1:8080/a.ics").await;
        assert_eq!(
            allowed.map(|u| u.to_string()),
            Ok("https://127.0.0.1:8080/a.ics".to_owned())
        );
    }
}
