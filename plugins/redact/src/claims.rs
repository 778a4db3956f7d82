//! Which rule owns which part of one string.
//!
//! Every rule looks at the original text, so a secret is replaced (or hashed)
//! exactly as found, never a half-masked remainder. Rules offer what they
//! found in priority order; the first to claim a stretch of text owns it. A
//! later find that lies inside a claim adds nothing. A later find that
//! overlaps a claim and reaches beyond it (`api_key=AKIA…EXTRA`, where the AWS
//! shape claimed the first twenty characters) is merged with it, so nothing
//! of either is left; the longer of the two names the merged claim.
//!
//! Text that is already a marker of this redactor is claimed first as
//! protected, so a second redact stage (or a replayed event) leaves it alone.
//! A find that starts inside protected text is reading the marker itself
//! (`[HASH:private_key:ca7b…]` looks like `private_key: ca7b…` to the
//! `password` rule) and is dropped whatever it reaches.

/// The owner of a protected claim: an existing marker, kept as it is.
pub const PROTECTED: usize = usize::MAX;

/// A claimed byte range and the index of the rule that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub start: usize,
    pub end: usize,
    pub rule: usize,
}

/// The claims on one string: sorted, never overlapping.
#[derive(Debug, Default)]
pub struct Claims {
    claims: Vec<Claim>,
}

impl Claims {
    pub fn clear(&mut self) {
        self.claims.clear();
    }

    pub fn as_slice(&self) -> &[Claim] {
        &self.claims
    }

    /// Offer `start..end`, found by `rule`. True when it claimed text that no
    /// earlier claim covered.
    pub fn offer(&mut self, start: usize, end: usize, rule: usize) -> bool {
        let first = self.claims.partition_point(|c| c.end <= start);
        let last = first + self.claims[first..].iter().take_while(|c| c.start < end).count();
        let overlapping = &self.claims[first..last];
        if overlapping.is_empty() {
            self.claims.insert(first, Claim { start, end, rule });
            return true;
        }
        let inside = |c: &Claim| c.start <= start && end <= c.end;
        let starts_in_marker = |c: &Claim| c.rule == PROTECTED && c.start <= start;
        if overlapping.iter().any(|c| inside(c) || starts_in_marker(c)) {
            return false;
        }
        let merged_start = start.min(overlapping[0].start);
        let merged_end = end.max(overlapping[overlapping.len() - 1].end);
        // The longest owner names the whole; on a tie the earlier claim (the
        // rule of higher priority) keeps it.
        let owner = overlapping.iter().filter(|c| c.rule != PROTECTED).fold(Claim { start, end, rule }, |best, c| {
            if c.end - c.start >= best.end - best.start { *c } else { best }
        });
        self.claims.splice(first..last, [Claim { start: merged_start, end: merged_end, rule: owner.rule }]);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(offers: &[(usize, usize, usize)]) -> (Vec<bool>, Vec<(usize, usize, usize)>) {
        let mut claims = Claims::default();
        let taken = offers.iter().map(|&(s, e, r)| claims.offer(s, e, r)).collect();
        (taken, claims.as_slice().iter().map(|c| (c.start, c.end, c.rule)).collect())
    }

    #[test]
    fn disjoint_finds_are_all_claimed_in_order() {
        assert_eq!(claims(&[(10, 20, 0), (0, 5, 1)]), (vec![true, true], vec![(0, 5, 1), (10, 20, 0)]));
    }

    #[test]
    fn a_find_inside_a_claim_adds_nothing() {
        assert_eq!(claims(&[(0, 20, 0), (5, 10, 1), (0, 20, 2)]), (vec![true, false, false], vec![(0, 20, 0)]));
    }

    #[test]
    fn a_find_reaching_beyond_claims_merges_them_under_the_longest() {
        assert_eq!(claims(&[(4, 24, 0), (4, 29, 1)]), (vec![true, true], vec![(4, 29, 1)]));
        assert_eq!(claims(&[(0, 10, 0), (12, 30, 1), (8, 14, 2)]), (vec![true; 3], vec![(0, 30, 1)]));
    }

    #[test]
    fn protected_text_stays_protected_unless_a_find_starts_before_it_and_reaches_beyond() {
        assert_eq!(claims(&[(9, 20, PROTECTED), (9, 20, 3)]), (vec![true, false], vec![(9, 20, PROTECTED)]));
        assert_eq!(claims(&[(9, 20, PROTECTED), (5, 23, 3)]).1, vec![(5, 23, 3)]);
        assert_eq!(claims(&[(9, 20, PROTECTED), (9, 23, 3)]).1, vec![(9, 20, PROTECTED)], "starts in the marker");
        assert_eq!(claims(&[(9, 20, PROTECTED), (15, 23, 3)]).1, vec![(9, 20, PROTECTED)], "starts in the marker");
    }
}
