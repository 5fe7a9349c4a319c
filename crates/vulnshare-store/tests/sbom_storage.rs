//! SBOM components are stored by package id and SBOM number (migration 0013), on every engine:
//! they read back as uploaded, packages are stored once however many uploads add them at once,
//! matching pages through them in upload order, rows in the earlier shape are moved by the
//! migration (an unfinished matching's cursor included), and a restore makes the store forget
//! the package ids it remembered.

use jiff::Timestamp;
use vulnshare_core::organization::{NewOrganization, OrganizationKind};
use vulnshare_core::package::Ecosystem;
use vulnshare_core::product::NewProduct;
use vulnshare_core::user::NewUser;
use vulnshare_store::testing::{TestDatabase, test_databases};
use vulnshare_store::{SbomRecord, Store, StoredComponent, new_sbom_id};

fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_000).unwrap()
}

/// The ids a member's uploads need.
#[derive(Clone)]
struct Member {
    org: String,
    user: String,
    product: String,
}

async fn member(store: &Store, name: &str) -> Member {
    let mut tx = store.begin_write().await.unwrap();
    let org = tx
        .create_organization(
            &NewOrganization {
                name: name.into(),
                kind: OrganizationKind::Provider,
                country: "CN".into(),
            },
            now(),
        )
        .await
        .unwrap();
    let user = tx
        .create_user(
            &org.id,
            &NewUser {
                email: format!("{}@member.example", name.to_lowercase().replace(' ', "-")),
                display_name: name.into(),
                password: String::new(),
                roles: Vec::new(),
            },
            "not a hash: nobody signs in here",
            now(),
        )
        .await
        .unwrap();
    let product = tx
        .create_product(
            &org.id,
            &NewProduct {
                name: format!("{name} product"),
                model: None,
                versions: vec!["1.0".into()],
            },
            now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Member {
        org: org.id,
        user: user.id,
        product: product.id,
    }
}

/// Components in this order, at positions 0, 1, ...
fn components(list: &[(Ecosystem, &str, &str)]) -> Vec<StoredComponent> {
    list.iter()
        .enumerate()
        .map(|(i, (ecosystem, name, version))| StoredComponent {
            position: i as i64,
            ecosystem: *ecosystem,
            name: (*name).into(),
            version: (*version).into(),
            purl: (*ecosystem == Ecosystem::Maven).then(|| {
                let (group, artifact) = name.split_once(':').unwrap();
                format!("pkg:maven/{group}/{artifact}@{version}")
            }),
        })
        .collect()
}

fn record(m: &Member, count: usize) -> SbomRecord {
    SbomRecord {
        id: new_sbom_id(),
        product_id: m.product.clone(),
        organization_id: m.org.clone(),
        product_version: "1.0".into(),
        format: "cyclonedx".into(),
        spec_version: "1.6".into(),
        component_count: count as i64,
        uploaded_at: now(),
    }
}

async fn upload(store: &Store, m: &Member, list: &[StoredComponent]) -> String {
    let record = record(m, list.len());
    let mut tx = store.begin_write_unlocked().await.unwrap();
    tx.save_sbom(&record, list, &m.user).await.unwrap();
    tx.lock().await.unwrap().commit().await.unwrap();
    record.id
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Every (SBOM id, position, version) of `name` in `ecosystem`, paged `limit` at a time from
/// the start as matching pages.
async fn page_through(
    store: &Store,
    ecosystem: Ecosystem,
    name: &str,
    limit: i64,
) -> Vec<(String, i64, String)> {
    let (mut after_sbom, mut after_position) = (-1, -1);
    let mut out = Vec::new();
    loop {
        let mut tx = store.begin_write().await.unwrap();
        let page = tx
            .components_named_after(ecosystem, name, after_sbom, after_position, limit)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        for (sbom, c) in &page.components {
            assert_eq!((c.ecosystem, c.name.as_str()), (ecosystem, name));
            out.push((sbom.id.clone(), c.position, c.version.clone()));
        }
        match page.components.last() {
            Some((_, c)) if page.components.len() as i64 == limit => {
                after_sbom = page.last_sbom_number;
                after_position = c.position;
            }
            _ => return out,
        }
    }
}

const LOG4J: &str = "org.apache.logging.log4j:log4j-core";

#[tokio::test]
async fn components_read_back_as_uploaded_and_packages_are_stored_once() {
    for db in test_databases().await {
        let store = db.store().await;
        let a = member(&store, "Member A").await;
        let b = member(&store, "Member B").await;
        let first = components(&[
            (Ecosystem::Maven, LOG4J, "2.14.1"),
            (Ecosystem::Npm, "left-pad", "1.3.0"),
            (Ecosystem::Maven, "com.example:util", "1.0"),
            // The same package twice in one SBOM (two versions shaded in).
            (Ecosystem::Maven, LOG4J, "2.17.1"),
        ]);
        // The same name in two ecosystems is two packages.
        let second = components(&[
            (Ecosystem::PyPI, "left-pad", "0.1"),
            (Ecosystem::Maven, LOG4J, "2.15.0"),
        ]);
        let one = upload(&store, &a, &first).await;
        let two = upload(&store, &b, &second).await;
        // A third upload of known packages only.
        let three = upload(&store, &a, &first[..2]).await;

        for (id, expected) in [
            (&one, &first[..]),
            (&two, &second[..]),
            (&three, &first[..2]),
        ] {
            let (stored, list) = store.sbom(id).await.unwrap();
            assert_eq!(&stored.id, id, "{}", db.backend);
            assert_eq!(list, expected, "{}", db.backend);
        }
        assert_eq!(
            count(&store, "component_packages").await,
            4,
            "{}",
            db.backend
        );
        assert_eq!(count(&store, "sbom_components").await, 8, "{}", db.backend);

        // Matching pages through log4j-core in upload order, two at a time.
        assert_eq!(
            page_through(&store, Ecosystem::Maven, LOG4J, 2).await,
            vec![
                (one.clone(), 0, "2.14.1".to_owned()),
                (one.clone(), 3, "2.17.1".to_owned()),
                (two.clone(), 1, "2.15.0".to_owned()),
                (three.clone(), 0, "2.14.1".to_owned()),
            ],
            "{}",
            db.backend
        );
        assert_eq!(
            page_through(&store, Ecosystem::PyPI, "left-pad", 2).await,
            vec![(two.clone(), 0, "0.1".to_owned())],
            "{}",
            db.backend
        );
        assert!(
            page_through(&store, Ecosystem::Go, "left-pad", 2)
                .await
                .is_empty(),
            "{}",
            db.backend
        );
        db.drop().await;
    }
}

#[tokio::test]
async fn uploads_adding_the_same_new_packages_at_once_all_succeed() {
    for db in test_databases().await {
        let store = db.store().await;
        let m = member(&store, "Member C").await;
        let names: Vec<String> = (0..40).map(|i| format!("com.example:lib-{i}")).collect();
        let mut uploads = Vec::new();
        for u in 0..6 {
            // Each upload lists the same new packages, in its own order.
            let mut list: Vec<(Ecosystem, &str, &str)> = names
                .iter()
                .map(|n| (Ecosystem::Maven, n.as_str(), "1.0"))
                .collect();
            list.rotate_left(u * 7);
            if u % 2 == 1 {
                list.reverse();
            }
            let list = components(&list);
            let (store, m) = (store.clone(), m.clone());
            uploads.push(tokio::spawn(async move {
                let record = record(&m, list.len());
                let mut tx = store.begin_write_unlocked().await?;
                tx.save_sbom(&record, &list, &m.user).await?;
                tx.lock().await?.commit().await?;
                Ok::<_, vulnshare_store::StoreError>((record.id, list))
            }));
        }
        for u in uploads {
            let (id, list) = u.await.unwrap().unwrap();
            assert_eq!(store.sbom(&id).await.unwrap().1, list, "{}", db.backend);
        }
        assert_eq!(
            count(&store, "component_packages").await,
            40,
            "{}",
            db.backend
        );
        db.drop().await;
    }
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test]
async fn rows_in_the_earlier_shape_are_moved_with_an_unfinished_matching() {
    for db in test_databases().await {
        let old = db.store_migrated_to(12).await;
        let m = member(&old, "Member D").await;
        // Two SBOMs written as the earlier schema held them, the later id first.
        for (id, rows) in [
            (
                "sbom_b",
                vec![(0, LOG4J, "2.14.1"), (1, "com.example:util", "1.0")],
            ),
            (
                "sbom_a",
                vec![
                    (0, "com.example:util", "2.0"),
                    (1, LOG4J, "2.16.0"),
                    (2, LOG4J, "2.12.1"),
                ],
            ),
        ] {
            exec(
                &old,
                &format!(
                    "INSERT INTO sboms (id, product_id, organization_id, product_version, format, spec_version, component_count, uploaded_by, uploaded_at) \
                     VALUES ('{id}', '{}', '{}', '1.0', 'cyclonedx', '1.6', {}, '{}', 1700000000000000)",
                    m.product, m.org, rows.len(), m.user
                ),
            )
            .await;
            for (position, name, version) in rows {
                exec(
                    &old,
                    &format!(
                        "INSERT INTO sbom_components (sbom_id, position, ecosystem, name, version, purl) \
                         VALUES ('{id}', {position}, 'Maven', '{name}', '{version}', NULL)"
                    ),
                )
                .await;
            }
        }
        // A matching that had done sbom_a's component 1 of log4j-core.
        exec(
            &old,
            "INSERT INTO advisory_matching (advisory_id, package_index, after_sbom, after_position, exposures, batches, started_at) \
             VALUES ('adv_1', 0, 'sbom_a', 1, 1, 1, 1700000000000000)",
        )
        .await;
        old.close().await;

        let store = db.store().await;
        let (_, list) = store.sbom("sbom_a").await.unwrap();
        assert_eq!(
            list.iter()
                .map(|c| (c.position, c.name.as_str(), c.version.as_str(), c.ecosystem))
                .collect::<Vec<_>>(),
            vec![
                (0, "com.example:util", "2.0", Ecosystem::Maven),
                (1, LOG4J, "2.16.0", Ecosystem::Maven),
                (2, LOG4J, "2.12.1", Ecosystem::Maven)
            ],
            "{}",
            db.backend
        );
        assert_eq!(
            count(&store, "component_packages").await,
            2,
            "{}",
            db.backend
        );
        // Numbered in id order, so the cursor continues where it was: sbom_a's position 2,
        // then sbom_b.
        let cursor = store.matching("adv_1").await.unwrap().unwrap();
        let mut tx = store.begin_write().await.unwrap();
        let rest = tx
            .components_named_after(
                Ecosystem::Maven,
                LOG4J,
                cursor.after_sbom_number,
                cursor.after_position,
                10,
            )
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(
            rest.components
                .iter()
                .map(|(s, c)| (s.id.as_str(), c.position))
                .collect::<Vec<_>>(),
            vec![("sbom_a", 2), ("sbom_b", 0)],
            "{}",
            db.backend
        );
        // A new upload is numbered after them and reuses the moved packages.
        let new = upload(
            &store,
            &m,
            &components(&[(Ecosystem::Maven, LOG4J, "2.17.1")]),
        )
        .await;
        assert_eq!(
            page_through(&store, Ecosystem::Maven, LOG4J, 10)
                .await
                .into_iter()
                .map(|(id, position, _)| (id, position))
                .collect::<Vec<_>>(),
            vec![
                ("sbom_a".to_owned(), 1),
                ("sbom_a".to_owned(), 2),
                ("sbom_b".to_owned(), 0),
                (new, 0)
            ],
            "{}",
            db.backend
        );
        assert_eq!(
            count(&store, "component_packages").await,
            2,
            "{}",
            db.backend
        );
        db.drop().await;
    }
}

#[tokio::test]
async fn after_a_restore_uploads_use_the_restored_package_ids() {
    for db in test_databases().await {
        // The backup's platform stored two packages...
        let source_db = fresh_like(&db).await;
        let source = source_db.store().await;
        let m = member(&source, "Member E").await;
        upload(
            &source,
            &m,
            &components(&[
                (Ecosystem::Npm, "first", "1.0"),
                (Ecosystem::Npm, "second", "1.0"),
            ]),
        )
        .await;
        let file = std::env::temp_dir().join(format!(
            "vulnshare-sbom-storage-{}.backup",
            uuid::Uuid::new_v4().simple()
        ));
        source.backup_to_file(&file, now()).await.unwrap();

        // ...which this store stored after a third, under other ids, and remembered before the
        // restore replaced its rows.
        let store = db.store().await;
        let other = member(&store, "Member F").await;
        let more = components(&[
            (Ecosystem::Npm, "another", "1.0"),
            (Ecosystem::Npm, "first", "1.0"),
            (Ecosystem::Npm, "second", "1.0"),
        ]);
        // The second upload reads the ids the first added, and remembers them.
        upload(&store, &other, &more).await;
        upload(&store, &other, &more).await;
        store.restore_from_file(&file, true).await.unwrap();
        let list = components(&[
            (Ecosystem::Npm, "first", "2.0"),
            (Ecosystem::Npm, "second", "2.0"),
        ]);
        let id = upload(&store, &m, &list).await;
        assert_eq!(store.sbom(&id).await.unwrap().1, list, "{}", db.backend);
        std::fs::remove_file(&file).ok();
        source_db.drop().await;
        db.drop().await;
    }
}

/// Another fresh database on the same engine as `db`.
async fn fresh_like(db: &TestDatabase) -> TestDatabase {
    let mut found = None;
    for d in test_databases().await {
        if d.backend == db.backend && found.is_none() {
            found = Some(d);
        } else {
            d.drop().await;
        }
    }
    found.unwrap()
}
