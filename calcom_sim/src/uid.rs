//! Booking uids shaped like Cal.com's: 22 random base62 characters.

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const UID_LEN: usize = 22;

pub fn new_uid(rng: &mut impl Rng) -> String {
    (0..UID_LEN).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_22_alphanumerics_and_differ() {
        let mut rng = rand::rng();
        let (a, b) = (new_uid(&mut rng), new_uid(&mut rng));
        assert_eq!(a.len(), UID_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
