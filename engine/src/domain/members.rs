use serde::{Deserialize, Serialize};

/// Which rows a filter or group matched, in a form cheap to compare: their
/// number, and the sum of their ids and of their ids' squares. A bulk
/// action carries the one the admin was shown and the server compares it
/// with the set it is about to act on, so "the same number of other rows"
/// is refused as a changed set, not only "another number" (two sets of
/// one size agree on both sums only by a contrived coincidence). The
/// squares are taken modulo [`Members::MODULUS`] so that no sum overflows
/// 64 bits, whatever the table's size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Members {
    pub count: i64,
    pub id_sum: i64,
    pub id_square_sum: i64,
}

impl Members {
    /// A prime below 2^30: a square of a residue stays below 2^60.
    pub const MODULUS: i64 = 1_000_000_007;

    /// The fingerprint of `ids` (each once), as the database computes it.
    pub fn of(ids: impl IntoIterator<Item = i64>) -> Members {
        ids.into_iter().fold(Members::default(), |m, id| Members {
            count: m.count + 1,
            id_sum: m.id_sum + id,
            id_square_sum: m.id_square_sum + square_residue(id),
        })
    }
}

fn square_residue(id: i64) -> i64 {
    let r = id % Members::MODULUS;
    r * r % Members::MODULUS
}

#[cfg(test)]
mod tests {
    use super::Members;

    #[test]
    fn a_set_of_the_same_size_with_other_members_differs() {
        let shown = Members::of([1, 5, 6]);
        assert_eq!(shown.count, 3);
        assert_ne!(shown, Members::of([2, 4, 6]), "same count and id sum, other members");
        assert_eq!(shown, Members::of([6, 1, 5]), "order does not matter");
        assert_eq!(Members::of([]), Members::default());
    }
}
