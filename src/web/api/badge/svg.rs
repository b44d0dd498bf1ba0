//! The badge's SVG: Netdata 1.37's layout (the shields.io "flat" look) — a label box and a
//! value box under one rounded mask, a light gradient over both, and each text twice (a
//! dark shadow one pixel lower, then the text itself), with the class names Netdata's
//! badges carry so that pages styling them keep working.
//!
//! The boxes are sized from the texts' widths in Verdana at 11 px ([`text_width`], from the
//! font's advance widths) plus 4 px of padding each side, all multiplied by the scale. A
//! small script re-measures the texts where the SVG is opened as a document (an `<img>`
//! runs no script), because the browser may draw them in another font. With both fixed
//! widths set the boxes have those widths, the texts are clipped to them and there is no
//! script.

use std::fmt::Write as _;

/// Padding each side of a text, px at scale 100.
const PADDING: f64 = 4.0;
/// Added between two characters, px.
const KERNING: f64 = 0.2;
/// Added to every text, px.
const EXTRA: f64 = 1.0;
/// The width counted for a character outside ASCII (one em of 11 px).
const EM: f64 = 11.0;

/// Advance widths of Verdana at 11 px for ASCII 32 (space) to 126 (`~`): the font's
/// advance widths in font units × 11 / 2048, to 1/100 px.
#[rustfmt::skip]
const VERDANA_11: [f64; 95] = [
    3.87, 4.33, 5.05, 9.0, 6.99, 11.84, 7.99, 2.95,      //  !"#$%&'
    5.0, 5.0, 6.99, 9.0, 4.0, 5.0, 4.0, 5.0,             // ()*+,-./
    6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99,      // 01234567
    6.99, 6.99, 5.0, 5.0, 9.0, 9.0, 9.0, 6.0,            // 89:;<=>?
    11.0, 7.52, 7.54, 7.68, 8.48, 6.96, 6.32, 8.53,      // @ABCDEFG
    8.27, 4.63, 5.0, 7.62, 6.12, 9.27, 8.23, 8.66,       // HIJKLMNO
    6.63, 8.66, 7.65, 7.52, 6.78, 8.05, 7.52, 10.88,     // PQRSTUVW
    7.54, 6.77, 7.54, 5.0, 5.0, 5.0, 9.0, 6.99,          // XYZ[\]^_
    6.99, 6.61, 6.85, 5.73, 6.85, 6.55, 3.87, 6.85,      // `abcdefg
    6.96, 3.02, 3.79, 6.51, 3.02, 10.7, 6.96, 6.68,      // hijklmno
    6.85, 6.85, 4.69, 5.73, 4.33, 6.96, 6.51, 9.0,       // pqrstuvw
    6.51, 6.51, 5.78, 6.98, 5.0, 6.98, 9.0,              // xyz{|}~
];

/// What is drawn: the texts (unescaped) and the `#`-prefixed colours.
#[derive(Clone, Debug, PartialEq)]
pub struct Badge {
    pub label: String,
    pub value: String,
    pub label_color: String,
    pub value_color: String,
    pub label_text_color: String,
    pub value_text_color: String,
    /// Percent, at least 100.
    pub scale: u32,
    /// The label's and the value's box widths in px at scale 100, when both are set.
    pub fixed_widths: Option<(u32, u32)>,
}

/// The width of `text` in px at 11 px Verdana, as Netdata counts it: each ASCII character
/// its advance and the kerning, a character beyond ASCII one em (no kerning), control
/// characters nothing; then one kerning less and one pixel more.
pub fn text_width(text: &str) -> f64 {
    let mut w = 0.0;
    for c in text.chars() {
        if !c.is_ascii() {
            w += EM;
        } else if let Some(adv) = (c as usize).checked_sub(32).and_then(|i| VERDANA_11.get(i)) {
            w += adv + KERNING;
        }
    }
    w - KERNING + EXTRA
}

/// The box widths (label, value) in px at the badge's scale.
pub fn box_widths(b: &Badge) -> (f64, f64) {
    let s = f64::from(b.scale) / 100.0;
    match b.fixed_widths {
        Some((l, v)) => (f64::from(l) * s, f64::from(v) * s),
        None => (
            (text_width(&shown(&b.label)) + 2.0 * PADDING) * s,
            (text_width(&shown(&b.value)) + 2.0 * PADDING) * s,
        ),
    }
}

/// The baseline of the texts (the shadows sit one pixel lower): 14 px at scale 100,
/// growing by 14.2 px per 100 % (integer arithmetic: no rounding surprise at any scale).
pub fn baseline(scale: u32) -> u64 {
    (u64::from(scale) * 1420).saturating_sub(2000) / 10_000
}

/// The SVG document.
pub fn render(b: &Badge) -> String {
    let s = f64::from(b.scale) / 100.0;
    let (lw, vw) = box_widths(b);
    let total = lw + vw;
    let height = 20.0 * s;
    let y = baseline(b.scale);
    let (label_x, value_x) = (lw / 2.0, lw + vw / 2.0 - 1.0);
    let (label, value) = (xml_escape(&b.label), xml_escape(&b.value));
    let fixed = b.fixed_widths.is_some();

    let mut o = String::with_capacity(2600 + label.len() * 2 + value.len() * 2);
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{total:.2}\" height=\"{height:.2}\">\
         <linearGradient id=\"smooth\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
         <mask id=\"round\"><rect class=\"bdge-ttl-width\" width=\"{total:.2}\" height=\"{height:.2}\" rx=\"{rx:.2}\" fill=\"#fff\"/></mask>\
         <g mask=\"url(#round)\"><rect class=\"bdge-rect-lbl\" width=\"{lw:.2}\" height=\"{height:.2}\" fill=\"{lc}\"/>",
        rx = 3.0 * s,
        lc = b.label_color,
    );
    if fixed {
        let _ = write!(
            o,
            "<clipPath id=\"lbl-rect\"><rect class=\"bdge-rect-lbl\" width=\"{lw:.2}\" height=\"{height:.2}\"/></clipPath>"
        );
    }
    let _ = write!(
        o,
        "<rect class=\"bdge-rect-val\" x=\"{lw:.2}\" width=\"{vw:.2}\" height=\"{height:.2}\" fill=\"{vc}\"/>",
        vc = b.value_color
    );
    if fixed {
        let _ = write!(
            o,
            "<clipPath id=\"val-rect\"><rect class=\"bdge-rect-val\" x=\"{lw:.2}\" width=\"{vw:.2}\" height=\"{height:.2}\"/></clipPath>"
        );
    }
    let _ = write!(
        o,
        "<rect class=\"bdge-ttl-width\" width=\"{total:.2}\" height=\"{height:.2}\" fill=\"url(#smooth)\"/></g>\
         <g text-anchor=\"middle\" font-family=\"DejaVu Sans,Verdana,Geneva,sans-serif\" font-size=\"{fs:.2}\">\
         <text class=\"bdge-lbl-lbl\" x=\"{label_x:.2}\" y=\"{ys}\" fill=\"#010101\" fill-opacity=\".3\" clip-path=\"url(#lbl-rect)\">{label}</text>\
         <text class=\"bdge-lbl-lbl\" x=\"{label_x:.2}\" y=\"{y}\" fill=\"{tl}\" clip-path=\"url(#lbl-rect)\">{label}</text>\
         <text class=\"bdge-lbl-val\" x=\"{value_x:.2}\" y=\"{ys}\" fill=\"#010101\" fill-opacity=\".3\" clip-path=\"url(#val-rect)\">{value}</text>\
         <text class=\"bdge-lbl-val\" x=\"{value_x:.2}\" y=\"{y}\" fill=\"{tv}\" clip-path=\"url(#val-rect)\">{value}</text></g>",
        fs = 11.0 * s,
        ys = y + 1,
        tl = b.label_text_color,
        tv = b.value_text_color,
    );
    if !fixed {
        let _ = write!(o, "{}", RESIZE_SCRIPT.replace("PAD", &format!("{:.2}", PADDING * s)));
    }
    o.push_str("</svg>");
    o
}

/// Re-lays the boxes out from the texts' drawn widths (nanodata's own script; in CDATA, as
/// its `<` and `&&` are not XML).
const RESIZE_SCRIPT: &str = "<script type=\"text/javascript\"><![CDATA[(function(){\
var svg=document.currentScript&&document.currentScript.closest(\"svg\");if(!svg)return;\
var pad=PAD;function els(c){return svg.getElementsByClassName(c);}\
function put(list,name,v){for(var i=0;i<list.length;i++)list[i].setAttribute(name,v);}\
var lbl=els(\"bdge-lbl-lbl\"),val=els(\"bdge-lbl-val\");if(!lbl.length||!val.length)return;\
var lw=lbl[0].getBBox().width+2*pad,vw=val[0].getBBox().width+2*pad;\
put(els(\"bdge-rect-lbl\"),\"width\",lw);put(els(\"bdge-rect-val\"),\"x\",lw);put(els(\"bdge-rect-val\"),\"width\",vw);\
put(lbl,\"x\",lw/2);put(val,\"x\",lw+vw/2);put(els(\"bdge-ttl-width\"),\"width\",lw+vw);svg.setAttribute(\"width\",lw+vw);\
})();]]></script>";

/// The text as drawn: a backslash shows as a slash (as in Netdata's badges).
fn shown(text: &str) -> String {
    text.replace('\\', "/")
}

/// `text` as XML character data and attribute text.
pub fn xml_escape(text: &str) -> String {
    let mut o = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\\' => o.push('/'),
            // Not allowed in XML 1.0 at all.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}
