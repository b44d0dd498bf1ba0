use super::*;

fn pairs(s: &str) -> Vec<(String, String)> {
    crate::web::http::query_pairs(s).unwrap()
}

#[test]
fn parse_rejects_bad_values_with_a_reason() {
    assert!(DataQuery::parse(&pairs("after=-60")).unwrap_err().contains("chart"));
    assert!(DataQuery::parse(&pairs("chart=a&after=x")).unwrap_err().contains("after"));
    assert!(DataQuery::parse(&pairs("chart=a&format=xml")).unwrap_err().contains("xml"));
    assert!(DataQuery::parse(&pairs("chart=a&group=fancy")).unwrap_err().contains("fancy"));
    assert!(DataQuery::parse(&pairs("chart=a&options=flip|bogus")).unwrap_err().contains("bogus"));
    assert!(DataQuery::parse(&pairs("chart=a&points=-1")).is_err());
    assert!(DataQuery::parse(&pairs("chart=a&callback=alert(1)")).is_err());
    let q = DataQuery::parse(&pairs("chart=a&options=ms%7Cflip,jsonwrap&_=123&group=percentile99")).unwrap();
    assert_eq!(
        q.render,
        RenderOptions { milliseconds: true, flip: true, jsonwrap: true, ..RenderOptions::default() }
    );
    assert_eq!(q.request.options, query::Options::default());
    assert_eq!(q.request.group, Group::Percentile(99));
}

#[test]
fn every_option_spelling_is_accepted_and_echoed_in_netdata_order() {
    let all = "nonzero flip reversed reverse jsonwrap min2max ms milliseconds abs absolute absolute_sum \
               absolute-sum display_absolute display-absolute seconds null2zero objectrows google_json \
               percentage unaligned match_ids match-ids match_names match-names all-dimensions \
               all_dimensions anomaly-bit selected-tier raw jw-anomaly-rates natural-points \
               virtual-points plan debug nonzero-ignore";
    let q = DataQuery::parse(&pairs(&format!("chart=a&options={}", all.replace(' ', "|")))).unwrap();
    // As Netdata 1.37.1 echoes them (recorded against the Debian package).
    assert_eq!(
        option_names(&q.request.options, &q.render),
        "nonzero,flip,jsonwrap,min2max,ms,abs,display_absolute,seconds,null2zero,objectrows,google_json,\
         percentage,unaligned,match_ids,match_names,anomaly-bit,selected-tier,raw,jw-anomaly-rates,\
         virtual-points,all-dimensions"
    );
    // Recorded: `options=jsonwrap|display_absolute|anomaly-bit|selected-tier|raw|jw-anomaly-rates`.
    let q = DataQuery::parse(&pairs(
        "chart=a&options=jsonwrap|display_absolute|anomaly-bit|selected-tier|raw|jw-anomaly-rates",
    ))
    .unwrap();
    assert_eq!(
        option_names(&q.request.options, &q.render),
        "jsonwrap,display_absolute,anomaly-bit,selected-tier,raw,jw-anomaly-rates,natural-points"
    );
    // Later versions' words are accepted, not echoed.
    let q = DataQuery::parse(&pairs("chart=a&options=plan nonzero-ignore")).unwrap();
    assert_eq!(option_names(&q.request.options, &q.render), "natural-points");
    // Recorded: `options=jsonwrap|absolute_sum|reverse` → `flip,jsonwrap,abs,natural-points`.
    let q = DataQuery::parse(&pairs("chart=a&options=jsonwrap,absolute_sum,reverse")).unwrap();
    assert_eq!(option_names(&q.request.options, &q.render), "flip,jsonwrap,abs,natural-points");
    let q = DataQuery::parse(&pairs("chart=a&options=natural-points|virtual-points")).unwrap();
    assert_eq!(option_names(&q.request.options, &q.render), "virtual-points");
}

#[test]
fn the_request_gets_the_window_group_and_dimensions() {
    let q = DataQuery::parse(&pairs(
        "context=net.packets&after=-60&before=-10&points=999999999&group=countif&group_options=>0&gtime=5&dims=in|out",
    ))
    .unwrap();
    assert_eq!(q.target, Target::Context("net.packets".into()));
    let r = &q.request;
    assert_eq!((r.after, r.before, r.points, r.gtime), (-60, -10, MAX_POINTS, 5));
    assert_eq!((r.group, r.group_options.as_str()), (Group::CountIf, ">0"));
    let dims = r.dimensions.as_ref().unwrap();
    assert!(dims.matches("in") && dims.matches("out") && !dims.matches("x"));
    let q = DataQuery::parse(&pairs("chart=a")).unwrap();
    assert_eq!(q.request, Request::default());
    assert_eq!((q.format, q.req_id.as_str()), (Format::Json, "0"));
}

#[test]
fn ssv_and_array_reduce_each_row() {
    let rows = Rows {
        ids: vec!["a".into(), "b".into()],
        names: vec!["a".into(), "b".into()],
        times: vec![10, 11, 12],
        values: vec![vec![Some(1.0), Some(4.0)], vec![None, None], vec![Some(-2.0), Some(3.0)]],
        ..Rows::default()
    };
    let body =
        |q: &str| render(&DataQuery::parse(&pairs(&format!("chart=a&{q}"))).unwrap(), "a", "a", &rows).0;
    assert_eq!(body("format=ssv"), "1  5\n", "newest first");
    assert_eq!(body("format=array&options=flip|min2max"), "[3,null,5]");
    assert_eq!(body("format=ssvcomma&options=null2zero"), "1,0,5\n");
}
