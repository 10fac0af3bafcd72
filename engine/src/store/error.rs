/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0}: use sqlite://FILE or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot open database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// A value the store refuses to keep (too long, empty, …).
    #[error("{0}")]
    Invalid(String),
    /// A stored value that our types reject: a bug or a hand-edited row.
    #[error("unreadable value in column {column}: {detail}")]
    Corrupt { column: &'static str, detail: String },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether the error is a unique-constraint violation (on either backend).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => false,
        }
    }
}
