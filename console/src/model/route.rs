//! Which page the address names. The address's hash is the one place the page is kept: a link,
//! Back and Forward change the hash, and the page follows it, so the URL always names the page
//! shown and a reload stays on it.

/// The pages, one per service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Home,
    Iam,
    Network,
    Instances,
}

impl Page {
    /// Every page, in the order of the header's tabs.
    pub const ALL: [Page; 4] = [Page::Home, Page::Iam, Page::Network, Page::Instances];

    /// The page `hash` names (`#/iam`, `#iam`, `#/iam/`); `None` when it names none, which the
    /// console replaces with [`Page::Home`]'s hash so that the address says what is shown.
    pub fn from_hash(hash: &str) -> Option<Page> {
        let name = hash.trim_start_matches('#').trim_matches('/');
        Page::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The page's name in the address and in `data-page`, which the browser test reads.
    pub fn name(self) -> &'static str {
        match self {
            Page::Home => "home",
            Page::Iam => "iam",
            Page::Network => "network",
            Page::Instances => "instances",
        }
    }

    pub fn hash(self) -> String {
        format!("#/{}", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_round_trips_through_its_hash() {
        for p in Page::ALL {
            assert_eq!(Page::from_hash(&p.hash()), Some(p));
        }
        assert_eq!(Page::from_hash("#iam"), Some(Page::Iam));
        assert_eq!(Page::from_hash("#/network/"), Some(Page::Network));
    }

    #[test]
    fn an_address_naming_no_page_is_none() {
        // The console then shows Home and says so in the address.
        for h in ["", "#", "#/", "#/nope", "#/iamx"] {
            assert_eq!(Page::from_hash(h), None, "{h:?}");
        }
    }
}
