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
    /// Object storage: buckets, a bucket's objects, its policy and website.
    Storage,
    /// Billing has views of its own (`#/billing/budgets`), each with its own address, so that a
    /// lecture can link straight to the budgets or the calculator.
    Billing(BillingView),
    /// Container apps, their images and their load balancers, each view with its own address
    /// (`#/apps/images`), as the AWS console keeps ECS, ECR and ELB apart.
    Apps(AppsView),
}

/// The views of the Apps page, in the order of its sub-navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppsView {
    /// The apps, the create form, and one app's detail.
    Apps,
    Images,
    LoadBalancers,
}

impl AppsView {
    pub const ALL: [AppsView; 3] = [AppsView::Apps, AppsView::Images, AppsView::LoadBalancers];

    /// The view's name in the address (`#/apps/<name>`) and in `data-view`.
    pub fn name(self) -> &'static str {
        match self {
            AppsView::Apps => "apps",
            AppsView::Images => "images",
            AppsView::LoadBalancers => "load-balancers",
        }
    }
}

/// The views of the Billing page, in the order of its sub-navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingView {
    /// The running month: estimate, live meter, cost per day, line items, reserved against used.
    Costs,
    Budgets,
    Prices,
    Capex,
}

impl BillingView {
    pub const ALL: [BillingView; 4] = [
        BillingView::Costs,
        BillingView::Budgets,
        BillingView::Prices,
        BillingView::Capex,
    ];

    /// The view's name in the address (`#/billing/<name>`) and in `data-view`.
    pub fn name(self) -> &'static str {
        match self {
            BillingView::Costs => "costs",
            BillingView::Budgets => "budgets",
            BillingView::Prices => "prices",
            BillingView::Capex => "capex",
        }
    }
}

impl Page {
    /// Every page, in the order of the header's tabs (Billing by its first view).
    pub const ALL: [Page; 7] = [
        Page::Home,
        Page::Iam,
        Page::Network,
        Page::Instances,
        Page::Storage,
        Page::Apps(AppsView::Apps),
        Page::Billing(BillingView::Costs),
    ];

    /// The page `hash` names (`#/iam`, `#iam`, `#/iam/`, `#/billing/capex`); `None` when it
    /// names none, which the console replaces with [`Page::Home`]'s hash so that the address
    /// says what is shown.
    pub fn from_hash(hash: &str) -> Option<Page> {
        let path = hash.trim_start_matches('#').trim_matches('/');
        let (name, view) = path.split_once('/').unwrap_or((path, ""));
        match (name, view) {
            ("billing", "") => Some(Page::Billing(BillingView::Costs)),
            ("billing", v) => BillingView::ALL
                .into_iter()
                .find(|b| b.name() == v)
                .map(Page::Billing),
            ("apps", "") => Some(Page::Apps(AppsView::Apps)),
            // `#/apps/apps` would name the first view twice: the address has one spelling.
            ("apps", v) => AppsView::ALL
                .into_iter()
                .filter(|a| *a != AppsView::Apps)
                .find(|a| a.name() == v)
                .map(Page::Apps),
            (_, "") => Page::ALL.into_iter().find(|p| p.name() == name),
            _ => None,
        }
    }

    /// The page's name in the address and in `data-page`, which the browser test reads.
    pub fn name(self) -> &'static str {
        match self {
            Page::Home => "home",
            Page::Iam => "iam",
            Page::Network => "network",
            Page::Instances => "instances",
            Page::Storage => "storage",
            Page::Billing(_) => "billing",
            Page::Apps(_) => "apps",
        }
    }

    pub fn hash(self) -> String {
        match self {
            Page::Billing(BillingView::Costs) => "#/billing".to_owned(),
            Page::Billing(v) => format!("#/billing/{}", v.name()),
            Page::Apps(AppsView::Apps) => "#/apps".to_owned(),
            Page::Apps(v) => format!("#/apps/{}", v.name()),
            p => format!("#/{}", p.name()),
        }
    }

    /// The header's tab this page is under: every Billing view is under the Billing tab, every
    /// Apps view under Apps.
    pub fn tab(self) -> Page {
        match self {
            Page::Billing(_) => Page::Billing(BillingView::Costs),
            Page::Apps(_) => Page::Apps(AppsView::Apps),
            p => p,
        }
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
        for v in BillingView::ALL {
            let p = Page::Billing(v);
            assert_eq!(Page::from_hash(&p.hash()), Some(p));
            assert_eq!(p.tab(), Page::Billing(BillingView::Costs));
        }
        assert_eq!(Page::from_hash("#iam"), Some(Page::Iam));
        assert_eq!(Page::from_hash("#/storage"), Some(Page::Storage));
        assert_eq!(Page::from_hash("#/network/"), Some(Page::Network));
        assert_eq!(
            Page::from_hash("#/billing/costs"),
            Some(Page::Billing(BillingView::Costs))
        );
        assert_eq!(Page::Billing(BillingView::Capex).hash(), "#/billing/capex");
        for v in AppsView::ALL {
            let p = Page::Apps(v);
            assert_eq!(Page::from_hash(&p.hash()), Some(p));
            assert_eq!(p.tab(), Page::Apps(AppsView::Apps));
        }
        assert_eq!(Page::Apps(AppsView::Apps).hash(), "#/apps");
        assert_eq!(
            Page::from_hash("#/apps/load-balancers"),
            Some(Page::Apps(AppsView::LoadBalancers))
        );
    }

    #[test]
    fn an_address_naming_no_page_is_none() {
        // The console then shows Home and says so in the address.
        for h in [
            "",
            "#",
            "#/",
            "#/nope",
            "#/iamx",
            "#/billing/nope",
            "#/iam/users",
            "#/apps/nope",
            "#/apps/apps",
        ] {
            assert_eq!(Page::from_hash(h), None, "{h:?}");
        }
    }
}
