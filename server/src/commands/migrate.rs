use anyhow::Result;

pub async fn run(database_url: &str) -> Result<()> {
    let store = super::open(database_url).await?;
    store.close().await;
    println!("migrations applied to {}", engine::store::redact_url(database_url));
    Ok(())
}
