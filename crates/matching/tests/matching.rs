//! Behaviour on the committed fixtures (training-data/fixtures: train distributors only).
use std::path::PathBuf;

use claimscan_matching::{
    train, Catalog, Confirmation, Decision, Matcher, Memory, Model, Query, Source,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../training-data/fixtures")
}

fn matcher() -> Matcher {
    let cat = Catalog::from_path(&fixtures().join("catalog.csv")).unwrap();
    Matcher::new(cat, Model::trained_default())
}

fn q(desc: &str) -> Query {
    Query {
        description: desc.into(),
        ..Default::default()
    }
}

#[test]
fn near_duplicates_are_told_apart_by_size_and_power() {
    let m = matcher();
    // CIRCA E 20-70: 180 mm PN10 / 220 mm / 220 mm PN10 are siblings
    let r = m.match_line(&q("PMP CIRC CIRCA E 20-70 180MM PN10 1X230V"), None);
    assert_eq!(r.candidates[0].sku, "NV-874696", "{r:?}");
    let r = m.match_line(&q("Umwälzpumpe CIRCA E 20-70 220 mm 1x230V"), None);
    assert_eq!(r.candidates[0].sku, "NV-405463", "{r:?}");
    let r = m.match_line(&q("CIRCA E 20-70 220MM PN10"), None);
    assert_eq!(r.candidates[0].sku, "NV-413629", "{r:?}");
    assert!(r.candidates.len() >= 2 && r.margin > 0.0);
}

#[test]
fn exact_gtin_and_maker_code_win() {
    let m = matcher();
    let r = m.match_line(
        &Query {
            product_code: Some("4057312002211".into()),
            ..q("PUMP")
        },
        None,
    );
    assert_eq!(r.candidates[0].sku, "NV-405463");
    let r = m.match_line(&q("CIRCA E 20-70 CI6301919"), None);
    assert_eq!(r.candidates[0].sku, "NV-413629");
    assert_eq!(r.decision, Decision::Match, "{r:?}");
}

#[test]
fn other_brand_lines_get_none() {
    let m = matcher();
    for d in [
        "AIRMAX BREEZE TYPE 18 HK EAN 8258231",
        "HYDROTEC AQUAFLOW CIRC PUMP 25-60 180MM",
        "Frais de port",
    ] {
        let r = m.match_line(&q(d), None);
        assert_eq!(r.decision, Decision::None, "{d}: {r:?}");
        assert!(r.sku.is_none());
    }
}

#[test]
fn memory_overrides_the_fuzzy_match() {
    let m = matcher();
    let line = Query {
        description: "CIRCA E 20-70 180MM PN10".into(),
        product_code: Some("X-77".into()),
        distributor: Some("D9".into()),
        ..Default::default()
    };
    let fuzzy = m.match_line(&line, None);
    assert_eq!(fuzzy.candidates[0].sku, "NV-874696");
    let mut mem = Memory::new();
    // the manager says this distributor's X-77 is the 220 mm one: one call
    mem.confirm(&Confirmation {
        distributor: "D9".into(),
        product_code: Some("X-77".into()),
        description: line.description.clone(),
        sku: Some("NV-413629".into()),
    });
    let r = m.match_line(&line, Some(&mem));
    assert_eq!(r.sku.as_deref(), Some("NV-413629"));
    assert_eq!(r.source, Source::Memory);
    assert_eq!(r.decision, Decision::Match);
    // other distributors are not affected
    let other = Query {
        distributor: Some("D8".into()),
        ..line.clone()
    };
    assert_eq!(
        m.match_line(&other, Some(&mem)).candidates[0].sku,
        "NV-874696"
    );
    // "not ours"
    mem.confirm(&Confirmation {
        sku: None,
        ..Confirmation {
            distributor: "D9".into(),
            product_code: Some("X-77".into()),
            description: line.description.clone(),
            sku: None,
        }
    });
    assert_eq!(m.match_line(&line, Some(&mem)).decision, Decision::None);
}

#[test]
fn a_wording_remembered_without_a_code_is_sure_only_when_no_sibling_fits_it() {
    let m = matcher();
    // a distributor that prints no code and cuts names short: both sizes fit the words and the price
    let cut = Query {
        description: "Circulator pump CIRCA E 20-70".into(),
        unit_price: Some(301.0),
        distributor: Some("D9".into()),
        ..Default::default()
    };
    // what a manager's confirmation of a line without a code teaches
    let remember = |mem: &mut Memory, q: &Query| {
        mem.confirm(&Confirmation {
            distributor: "D9".into(),
            product_code: None,
            description: q.description.clone(),
            sku: Some("NV-413629".into()),
        })
    };
    let mut mem = Memory::new();
    remember(&mut mem, &cut);
    let r = m.match_line(&cut, Some(&mem));
    // the manager's last answer is offered first, but the next invoice may be the other size
    assert_eq!(r.candidates[0].sku, "NV-413629", "{r:?}");
    assert_eq!(r.source, Source::Memory);
    assert_eq!(r.decision, Decision::Review, "{r:?}");
    assert!(r.probability < 0.9, "{}", r.probability);
    assert!(r.candidates.iter().any(|c| c.sku == "NV-874696"));
    // the whole name with its size fits one product only: the memory is sure
    let whole = Query {
        description: "Circulator pump CIRCA E 20-70 220 mm PN10".into(),
        ..cut.clone()
    };
    remember(&mut mem, &whole);
    let r = m.match_line(&whole, Some(&mem));
    assert_eq!(r.sku.as_deref(), Some("NV-413629"));
    assert_eq!(r.source, Source::Memory);
    assert_eq!(r.decision, Decision::Match);
    assert!(r.probability >= 0.995, "{}", r.probability);
}

#[test]
fn fixture_lines_mostly_right_and_training_runs() {
    let lines = train::read_lines(&fixtures().join("lines.csv")).unwrap();
    let m = matcher();
    let rep = train::evaluate(&m, &lines);
    assert!(rep.catalog_lines > 50 && rep.non_catalog_lines > 10);
    assert!(rep.top1 >= 0.6, "top-1 {}", rep.top1);
    assert!(rep.none_rate >= 0.9, "none-rate {}", rep.none_rate);
    // a model can be trained from these lines alone and round-trips through JSON
    let cat = Catalog::from_path(&fixtures().join("catalog.csv")).unwrap();
    let model = train::train(&cat, &lines);
    let back = Model::from_json(&model.to_json()).unwrap();
    assert_eq!(back.rank, model.rank);
    assert!(back.match_threshold >= 0.5 && back.match_threshold <= 0.99);
}

#[test]
fn index_of_100k_skus_builds_fast() {
    let base = Catalog::from_path(&fixtures().join("catalog.csv")).unwrap();
    let mut products = Vec::new();
    for i in 0..100_000usize {
        let mut p = base.products[i % base.len()].clone();
        p.sku = format!("X-{i}");
        p.gtin = None;
        p.mpn = None;
        p.name = format!("{} S{}", p.name, i / base.len());
        products.push(p);
    }
    let cat = Catalog::from_products(products).unwrap();
    let t = std::time::Instant::now();
    let m = Matcher::new(cat, Model::trained_default());
    let dt = t.elapsed().as_secs_f64();
    assert_eq!(m.products().len(), 100_000);
    // debug build at opt-level 1 on a shared machine: generous bound (release: ~0.3 s)
    assert!(dt < 10.0, "index build took {dt:.2}s");
}

#[test]
fn equally_worded_siblings_share_the_price_evidence() {
    let csv = "sku,name,list_price\n\
               C-GREY,Installation cable NYM-J 3x1.5 100 m grey,100\n\
               C-BLACK,Installation cable NYM-J 3x1.5 100 m black,110\n\
               C-5X,Installation cable NYM-J 5x2.5 50 m grey,300\n";
    let cat = Catalog::from_csv_reader(csv.as_bytes()).unwrap();
    let m = Matcher::new(cat, Model::trained_default());
    let share = |price: f64| share_of(&m, "CABLE NYM-J 3x1.5 100 m", price);
    // 105 is in both bands: the price density ~ 1/list gives 110/210 and 100/210, cheaper first
    let (grey, black, top) = share(105.0);
    assert!((grey - 110.0 / 210.0).abs() < 1e-3, "{grey}");
    assert!((black - 100.0 / 210.0).abs() < 1e-3, "{black}");
    assert_eq!(top, "C-GREY");
    // 122 is only in the black one's band: it alone has the price evidence
    let (grey, black, top) = share(122.0);
    assert_eq!((grey, black), (0.0, 1.0));
    assert_eq!(top, "C-BLACK");
    // "grey" printed: grey covers the words better, so black is not alone in its group
    let (grey, black, _) = share_of(&m, "CABLE NYM-J 3x1.5 100 m grey", 105.0);
    assert_eq!(grey, 1.0);
    assert!((black - 100.0 / 210.0).abs() < 1e-3, "{black}");
}

/// `price_share` of C-GREY and C-BLACK for a query, and the top SKU.
fn share_of(m: &Matcher, description: &str, price: f64) -> (f32, f32, String) {
    use claimscan_matching::matcher::PRICE_SHARE;
    let r = m.match_line(
        &Query {
            description: description.into(),
            unit_price: Some(price),
            ..Default::default()
        },
        None,
    );
    let of = |sku: &str| {
        r.candidates
            .iter()
            .find(|c| c.sku == sku)
            .map(|c| c.features[PRICE_SHARE])
            .unwrap()
    };
    (of("C-GREY"), of("C-BLACK"), r.candidates[0].sku.clone())
}

#[test]
fn a_description_cut_off_mid_word_matches_on_the_start_of_its_last_word() {
    // the right ones have the longer names, so string similarity alone prefers the wrong ones
    let csv = "sku,name,list_price\n\
               E-35,Press fitting PRESSFIT elbow 90 35 mm copper,10\n\
               E-54,Press fitting PRESSFIT elbow 90 54 mm stainless steel pack of 10,20\n\
               E-15,Press fitting PRESSFIT elbow 90 15 mm carbon steel pack of 10,5\n\
               E-12,Press fitting PRESSFIT elbow 90 12 mm copper,5\n";
    let cat = Catalog::from_csv_reader(csv.as_bytes()).unwrap();
    let m = Matcher::new(cat, Model::trained_default());
    // printed at a fixed width: "54 mm" became "5", "15 mm" became "15 M" (read as 15 metres)
    for (text, sku) in [
        ("PRESSFIT ELBOW 90 5", "E-54"),
        ("PRESS FTG PRESSFIT ELBOW 90 15 M", "E-15"),
    ] {
        let r = m.match_line(&q(text), None);
        assert_eq!(r.candidates[0].sku, sku, "{text}: {r:?}");
    }
}
