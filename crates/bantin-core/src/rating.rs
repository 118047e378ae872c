//! Star ratings: a vote is 1–5 points; an article keeps the total and the number of votes.

use std::fmt;

/// One vote, 1 to 5 stars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rating(u8);

/// The vote is not between 1 and 5.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("điểm đánh giá phải từ 1 đến 5")]
pub struct InvalidRating;

impl Rating {
    /// Accepts 1..=5 only.
    pub fn new(points: i64) -> Result<Self, InvalidRating> {
        match points {
            1..=5 => Ok(Self(points as u8)),
            _ => Err(InvalidRating),
        }
    }

    /// Parses form or JSON input such as `"4"`.
    pub fn parse(s: &str) -> Result<Self, InvalidRating> {
        s.trim()
            .parse::<i64>()
            .map_err(|_| InvalidRating)
            .and_then(Self::new)
    }

    /// The points, 1–5.
    pub fn points(self) -> i64 {
        i64::from(self.0)
    }
}

/// An article's ratings so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct RatingSummary {
    /// Sum of all points.
    pub total: i64,
    /// Number of votes.
    pub count: i64,
}

impl RatingSummary {
    /// Average points with one decimal in Vietnamese notation (`4,5`), or `None` before any vote.
    pub fn average_vi(&self) -> Option<String> {
        if self.count <= 0 {
            return None;
        }
        // Round half up in tenths using integers, so 4.25 shows as 4,3 on every platform.
        let tenths = (self.total * 20 + self.count) / (self.count * 2);
        Some(format!("{},{}", tenths / 10, tenths % 10))
    }

    /// Average as a number, 0 before any vote (for stars drawn in proportion).
    pub fn average(&self) -> f64 {
        if self.count <= 0 {
            0.0
        } else {
            self.total as f64 / self.count as f64
        }
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_to_five() {
        for p in 1..=5 {
            assert_eq!(Rating::new(p).unwrap().points(), p);
        }
        for bad in [0, 6, -1, i64::MAX] {
            assert_eq!(Rating::new(bad), Err(InvalidRating));
        }
        assert_eq!(Rating::parse(" 3 ").unwrap().points(), 3);
        for bad in ["", "x", "3.5", "99999999999999999999999"] {
            assert!(Rating::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vietnamese_average() {
        assert_eq!(RatingSummary { total: 0, count: 0 }.average_vi(), None);
        assert_eq!(
            RatingSummary { total: 9, count: 2 }.average_vi().unwrap(),
            "4,5"
        );
        assert_eq!(
            RatingSummary { total: 5, count: 1 }.average_vi().unwrap(),
            "5,0"
        );
        assert_eq!(
            RatingSummary {
                total: 17,
                count: 4
            }
            .average_vi()
            .unwrap(),
            "4,3"
        );
        assert_eq!(
            RatingSummary {
                total: 10,
                count: 3
            }
            .average_vi()
            .unwrap(),
            "3,3"
        );
    }
}
