//! The per-message benchmark of a campaign: a German newsletter of about
//! 30 KB of MJML with 20 distinct links and 5 merge fields, per-person
//! tracking, prepared once (`content::message::Prepared::new`), then one
//! complete MIME message per recipient (`Prepared::message`: rendering,
//! link signing, quoted-printable, headers) for 20,000 varied recipients
//! on one thread — the calls the send worker makes. For comparison, the
//! whole-message path: `Compiled::render` and then `mime::build`
//! (mail-builder encodes every message in full; links not rewritten).
//! Prints figures; asserts nothing timed.
//!
//! `cargo bench -p emma --bench send`, or with a count:
//! `cargo bench -p emma --bench send -- 50000`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use emma::content::links::LinkKey;
use emma::content::message::{CampaignMail, Prepared, Recipient, Splicing};
use emma::content::template::{TemplateKind, TemplateSource, compile};
use emma::domain::{ContactId, EmailAddress, TenantId, TrackingMode};
use emma::mime::{self, ListUnsubscribe};
use emma::telemetry::Pseudonymizer;
use minijinja::Value;

const FIRST: &[&str] = &[
    "Jürgen",
    "Anna",
    "Max",
    "Özlem",
    "Erika",
    "Hans-Peter",
    "Sophie",
    "Lukas",
    "Mia",
    "Jörg",
];
const LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weiß",
    "Meyer",
    "Wagner",
    "Becker",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
];
const CITIES: &[&str] = &[
    "Musterstadt",
    "Köln",
    "Düsseldorf",
    "Münster",
    "Görlitz",
    "Bad Homburg",
    "Lüdenscheid",
];
const ADVISERS: &[&str] = &[
    "Frau Özdemir",
    "Herrn Krüger",
    "Frau Lehmann",
    "Herrn Yıldız",
];

const ARTICLES: &[(&str, &str)] = &[
    ("Baufinanzierung 2025: Zinsen im Blick", "baufinanzierung"),
    ("Altersvorsorge mit Fonds – so geht's", "altersvorsorge"),
    ("Sicher bezahlen mit dem Smartphone", "mobiles-bezahlen"),
    ("Die Sparkassen-App: neue Funktionen", "app-neuheiten"),
    ("Energetisch sanieren und Förderung nutzen", "modernisieren"),
    ("Junge Leute: das Girokonto für den Start", "junge-kunden"),
    ("Unser Engagement in der Region", "engagement"),
    ("Vorsicht vor Phishing-Mails", "sicherheit"),
];

const PARAGRAPH: &str = "Ob Sie bauen, kaufen oder modernisieren möchten: Wir begleiten Sie \
    persönlich und mit einem Angebot, das zu Ihrer Lebenssituation passt. Unsere Beraterinnen \
    und Berater in der Filiale nehmen sich Zeit für Ihre Fragen, rechnen verschiedene \
    Möglichkeiten mit Ihnen durch und zeigen Ihnen, welche Förderprogramme von Bund und Land \
    für Sie in Frage kommen. Vereinbaren Sie einfach einen Termin – vor Ort, per Telefon oder \
    per Video. Gemeinsam finden wir die Lösung, die langfristig trägt und Ihnen finanziellen \
    Spielraum lässt.";

const DETAILS: &str = "Viele unserer Kundinnen und Kunden fragen uns, worauf es dabei \
    wirklich ankommt. Die kurze Antwort: auf einen Plan, der zu Ihnen passt. Deshalb schauen \
    wir uns gemeinsam Ihre Einnahmen und Ausgaben an, Ihre Ziele für die nächsten Jahre und \
    die Rücklagen, die Sie für unvorhergesehene Ausgaben brauchen. Daraus entsteht ein \
    Vorschlag, den Sie in Ruhe prüfen können – ohne Verpflichtung und ohne Zeitdruck. Und \
    wenn sich Ihre Lebenssituation ändert, passen wir ihn einfach an.";

const GOOD_TO_KNOW: &str = "Alle Angaben ohne Gewähr. Die genannten Konditionen gelten \
    vorbehaltlich einer positiven Bonitätsprüfung und können sich jederzeit ändern. Ein \
    persönliches Angebot erhalten Sie in Ihrer Filiale oder im Online-Banking unter dem \
    Menüpunkt „Produkte“. Wir beraten Sie gern – auch abends und am Wochenende nach \
    Vereinbarung.";

/// Rows of the rates table: product, term, rate.
const RATES: &[(&str, &str, &str)] = &[
    ("Tagesgeld", "täglich verfügbar", "2,25 % p. a."),
    ("Festgeld", "12 Monate", "2,80 % p. a."),
    ("Festgeld", "24 Monate", "2,60 % p. a."),
    ("Sparkassenbrief", "36 Monate", "2,50 % p. a."),
    ("Sparkassenbrief", "60 Monate", "2,40 % p. a."),
    ("Baufinanzierung", "10 Jahre fest", "ab 3,45 % eff. p. a."),
    ("Baufinanzierung", "15 Jahre fest", "ab 3,65 % eff. p. a."),
    ("Privatkredit", "12–84 Monate", "ab 5,99 % eff. p. a."),
];

/// Dates in the branches: day, time, topic, place.
const EVENTS: &[(&str, &str, &str, &str)] = &[
    (
        "Di., 14.10.",
        "18:00 Uhr",
        "Vortrag: Vorsorge mit Fonds und ETFs",
        "Hauptstelle, Marktplatz 1",
    ),
    (
        "Do., 23.10.",
        "17:30 Uhr",
        "Sprechstunde Baufinanzierung",
        "Filiale Nord, Lindenallee 12",
    ),
    (
        "Sa., 08.11.",
        "10:00 Uhr",
        "Online-Banking für Einsteiger",
        "Filiale Süd, Am Bahnhof 3",
    ),
    (
        "Mi., 19.11.",
        "19:00 Uhr",
        "Erben und Vererben – was ist zu beachten?",
        "Hauptstelle, Saal 2",
    ),
    (
        "Di., 02.12.",
        "18:30 Uhr",
        "Sicher im Netz: Betrugsmaschen erkennen",
        "Filiale West, Kirchplatz 7",
    ),
];

/// The newsletter: header, greeting, eight articles, four products, three
/// services, and a footer with the unsubscribe link.
fn newsletter() -> String {
    let site = "https://www.sparkasse-musterstadt.de";
    let mut m = String::new();
    m.push_str(r##"<mjml>
  <mj-head>
    <mj-title>Ihr Sparkassen-Newsletter</mj-title>
    <mj-preview>Neuigkeiten aus Ihrer Sparkasse Musterstadt</mj-preview>
    <mj-attributes>
      <mj-all font-family="Arial, Helvetica, sans-serif" />
      <mj-text font-size="15px" line-height="22px" color="#333333" />
      <mj-button background-color="#ff0000" color="#ffffff" font-weight="bold" border-radius="4px" />
    </mj-attributes>
    <mj-style inline="inline">.fussnote { color: #777777; font-size: 12px; }</mj-style>
  </mj-head>
  <mj-body background-color="#f2f2f2" width="640px">
"##);
    m.push_str(&format!(r##"    <mj-section background-color="#ffffff" padding="16px 24px">
      <mj-column>
        <mj-image href="{site}/" src="{site}/bilder/logo.png" alt="Sparkasse Musterstadt" width="180px" align="left" />
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="0 24px 16px">
      <mj-column>
        <mj-text font-size="20px" font-weight="bold">{{{{ contact.salutation | default("Guten Tag") }}}} {{{{ contact.first_name }}}} {{{{ contact.last_name }}}},</mj-text>
        <mj-text>herzlich willkommen zu unserem Newsletter für den Herbst. Wir haben für Sie die wichtigsten Neuigkeiten rund um Ihre Finanzen zusammengestellt{{% if contact.city %}} – und natürlich, was sich in unserer Filiale in {{{{ contact.city }}}} tut{{% endif %}}.</mj-text>
        {{% if contact.attributes.berater %}}<mj-text>Ihr persönlicher Ansprechpartner: {{{{ contact.attributes.berater }}}}. Sie erreichen uns montags bis freitags von 8 bis 18 Uhr.</mj-text>{{% endif %}}
      </mj-column>
    </mj-section>
"##));
    for (n, (title, slug)) in ARTICLES.iter().enumerate() {
        let url = format!("{site}/aktuelles/{slug}");
        m.push_str(&format!(r##"    <mj-section background-color="#ffffff" padding="8px 24px" border-top="1px solid #e5e5e5">
      <mj-column width="35%">
        <mj-image href="{url}" src="{site}/bilder/artikel-{n}.jpg" alt="{title}" border-radius="4px" />
      </mj-column>
      <mj-column width="65%">
        <mj-text font-size="17px" font-weight="bold">{title}</mj-text>
        <mj-text>{PARAGRAPH}</mj-text>
        <mj-text>Mehr dazu lesen Sie auf unserer Website. Nr. {n}: {}</mj-text>
        <mj-text>{DETAILS}</mj-text>
        <mj-text font-size="13px"><strong>Gut zu wissen:</strong> {GOOD_TO_KNOW}</mj-text>
        <mj-button href="{url}" align="left">Weiterlesen</mj-button>
      </mj-column>
    </mj-section>
"##, &PARAGRAPH[..PARAGRAPH.floor_char_boundary(300 + n * 40)]));
    }
    m.push_str(r##"    <mj-section background-color="#ffffff" padding="8px 24px">
      <mj-column>
        <mj-text font-size="17px" font-weight="bold">Unsere Konditionen im Überblick</mj-text>
        <mj-table font-size="13px" cellpadding="4px">
          <tr style="border-bottom:1px solid #cccccc;text-align:left;"><th>Produkt</th><th>Laufzeit</th><th>Zinssatz</th></tr>
"##);
    for (product, term, rate) in RATES {
        m.push_str(&format!(
            "          <tr style=\"border-bottom:1px solid #eeeeee;\"><td>{product}</td><td>{term}</td><td>{rate}</td></tr>\n"
        ));
    }
    m.push_str(
        r##"        </mj-table>
        <mj-text font-size="17px" font-weight="bold">Termine in Ihrer Nähe</mj-text>
"##,
    );
    for (day, time, topic, place) in EVENTS {
        m.push_str(&format!(
            "        <mj-text padding=\"4px 25px\"><strong>{day}, {time}:</strong> {topic}<br />{place}. Der Eintritt ist frei, um Anmeldung in der Filiale wird gebeten.</mj-text>\n"
        ));
    }
    m.push_str(
        r##"      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="8px 24px">
"##,
    );
    for (product, slug) in [
        ("Girokonto", "girokonto"),
        ("Kreditkarte", "kreditkarte"),
        ("Privatkredit", "privatkredit"),
        ("Depot", "depot"),
    ] {
        m.push_str(&format!(r##"      <mj-column width="25%">
        <mj-image href="{site}/produkte/{slug}" src="{site}/bilder/{slug}.png" alt="{product}" width="96px" />
        <mj-text align="center" font-weight="bold">{product}</mj-text>
        <mj-text align="center" font-size="13px">Alles Wichtige zum {product} auf einen Blick – übersichtlich und fair.</mj-text>
      </mj-column>
"##));
    }
    m.push_str("    </mj-section>\n");
    m.push_str(&format!(r##"    <mj-section background-color="#ffffff" padding="8px 24px">
      <mj-column>
        <mj-text font-weight="bold">Service für Sie</mj-text>
        <mj-text><a href="{site}/filialfinder">Filiale finden</a> · <a href="{site}/online-banking">Online-Banking</a> · <a href="{site}/termin">Termin vereinbaren</a></mj-text>
        <mj-text>Fragen? Schreiben Sie uns an <a href="mailto:service@sparkasse-musterstadt.de">service@sparkasse-musterstadt.de</a>.</mj-text>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px">
      <mj-column>
        <mj-social font-size="12px" icon-size="20px" mode="horizontal">
          <mj-social-element name="facebook" href="https://www.facebook.com/sparkassemusterstadt">Facebook</mj-social-element>
          <mj-social-element name="instagram" href="https://www.instagram.com/sparkassemusterstadt">Instagram</mj-social-element>
        </mj-social>
        <mj-text css-class="fussnote">Sparkasse Musterstadt, Anstalt des öffentlichen Rechts, Marktplatz 1, 12345 Musterstadt. Vorstand: Dr. Erika Beispiel (Vorsitzende), Max Muster. Aufsichtsbehörde: Bundesanstalt für Finanzdienstleistungsaufsicht (BaFin).</mj-text>
        <mj-text css-class="fussnote"><a href="{site}/impressum">Impressum</a> · <a href="{site}/datenschutz">Datenschutz</a> · <a href="{{{{ unsubscribe_url }}}}">Newsletter abbestellen</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"##));
    m
}

struct Contact {
    id: ContactId,
    to: EmailAddress,
    name: String,
    token: String,
    context: Value,
}

fn contacts(count: usize) -> Vec<Contact> {
    let keys = Pseudonymizer::new(b"benchmark key, not a secret, 32b");
    (0..count)
        .map(|i| {
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i / FIRST.len()) % LAST.len()];
            let to = EmailAddress::parse(&format!("kunde{i}@example.de")).unwrap();
            let id = ContactId::parse(&keys.hash(to.as_str())).unwrap();
            let mut contact = serde_json::json!({
                "first_name": first,
                "last_name": last,
                "salutation": if i % 2 == 0 { "Sehr geehrte Frau" } else { "Sehr geehrter Herr" },
                "attributes": {},
            });
            // Some fields missing, as in a real audience.
            if i % 5 != 0 {
                contact["city"] = CITIES[i % CITIES.len()].into();
            }
            if i % 3 == 0 {
                contact["attributes"]["berater"] = ADVISERS[i % ADVISERS.len()].into();
            }
            // As long as `services::unsubscribe::token` makes them.
            let token = format!("{}{}", keys.hash(&format!("u{i}")), keys.hash(&format!("v{i}")))
                .repeat(3)[..142]
                .to_owned();
            Contact {
                id,
                to,
                name: format!("{first} {last}"),
                token,
                context: Value::from(minijinja::value::Serde(
                    serde_json::json!({ "contact": contact, "institute": { "name": "Sparkasse Musterstadt" } }),
                )),
            }
        })
        .collect()
}

fn recipient(c: &Contact) -> Recipient<'_> {
    Recipient {
        contact: &c.id,
        to: &c.to,
        name: Some(&c.name),
        unsubscribe_token: &c.token,
        context: &c.context,
    }
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mjml = newsletter();
    let source = TemplateSource {
        kind: TemplateKind::Mjml,
        subject: "{{ contact.first_name }}, Ihre Neuigkeiten aus der Sparkasse – Herbst 2025"
            .into(),
        body: mjml.clone(),
        text: None,
    };
    let pseudonyms = Pseudonymizer::new(b"benchmark key, not a secret, 32b");
    let links = LinkKey::new(&pseudonyms);
    let mail = CampaignMail {
        tenant: TenantId::parse("sparkasse-musterstadt").unwrap(),
        campaign: uuid::Uuid::now_v7(),
        from_name: "Sparkasse Musterstadt".into(),
        from: EmailAddress::parse("newsletter@sparkasse-musterstadt.de").unwrap(),
        reply_to: Some(EmailAddress::parse("service@sparkasse-musterstadt.de").unwrap()),
        tracking: TrackingMode::PerPerson,
        public_url: url::Url::parse("https://emma.sparkasse-musterstadt.de/").unwrap(),
        unsubscribe_mailto: EmailAddress::parse("abmelden@emma.sparkasse-musterstadt.de").unwrap(),
        message_id_domain: "sparkasse-musterstadt.de".into(),
        headers: Vec::new(),
    };

    let started = Instant::now();
    let compiled = compile(&source).expect("the newsletter compiles");
    let compiled_in = started.elapsed();
    let html_len = compiled.html().len();
    let started = Instant::now();
    let prepared = Prepared::new(compiled, &mail, &links).expect("the campaign prepares");
    let prepared_in = started.elapsed();
    let people = contacts(count);

    println!("send benchmark: {count} recipients, one thread, per-person tracking");
    println!(
        "  template: {} KB MJML -> {} KB HTML, {} tracked links, fields {:?}",
        mjml.len() / 1024,
        html_len / 1024,
        prepared.links().len(),
        prepared.compiled().fields()
    );
    println!(
        "  once per campaign: compile {:.2} ms, prepare {:.2} ms",
        ms(compiled_in),
        ms(prepared_in)
    );
    let (sample, report) = prepared
        .message_with_report(&recipient(&people[0]), 1_795_000_000)
        .unwrap();
    let Splicing {
        template_text_from_campaign,
        template_text_encoded_here,
        values_encoded_here,
    } = report;
    println!(
        "  message: {} bytes; body text from the campaign's encoding {} B, \
         template text encoded per message {} B, values and links {} B",
        sample.raw.len(),
        template_text_from_campaign,
        template_text_encoded_here,
        values_encoded_here
    );

    for reuse in [false, true] {
        let mut rounds = Vec::new();
        let mut buffer = Vec::new();
        for round in 1..=3 {
            let started = Instant::now();
            let mut bytes = 0usize;
            for (i, person) in people.iter().enumerate() {
                let date = 1_795_000_000 + i as i64;
                if reuse {
                    let written = prepared
                        .write_message(&recipient(person), date, &mut buffer)
                        .expect("every message builds");
                    bytes += buffer.len();
                    black_box((written, &buffer));
                } else {
                    let built = prepared
                        .message(&recipient(person), date)
                        .expect("every message builds");
                    bytes += built.raw.len();
                    black_box(built);
                }
            }
            let took = started.elapsed();
            let per_second = count as f64 / took.as_secs_f64();
            println!(
                "  round {round}: {:.0} messages/s, {:.1} µs per message, {:.0} MB/s of MIME ({:.2} s)",
                per_second,
                took.as_secs_f64() * 1e6 / count as f64,
                bytes as f64 / took.as_secs_f64() / 1e6,
                took.as_secs_f64()
            );
            rounds.push(per_second);
        }
        rounds.sort_by(f64::total_cmp);
        let call = if reuse {
            "Prepared::write_message (one buffer reused)"
        } else {
            "Prepared::message (a new buffer per message)"
        };
        println!(
            "  {call}: median {:.0} messages/s ({:.1} µs per message)",
            rounds[1],
            1e6 / rounds[1]
        );
    }

    // The whole-message path, for comparison.
    let whole = count.min(2_000);
    let from = mail.from.clone();
    let started = Instant::now();
    let mut bytes = 0usize;
    for person in &people[..whole] {
        let unsubscribe = prepared.unsubscribe_url(&person.token);
        let context = minijinja::value::merge_maps([
            minijinja::context! { unsubscribe_url => unsubscribe.as_str() },
            person.context.clone(),
        ]);
        let rendered = prepared.compiled().render(&context).unwrap();
        let message = mime::Message {
            from_name: mail.from_name.clone(),
            from: from.clone(),
            to_name: Some(person.name.clone()),
            to: person.to.clone(),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            headers: Vec::new(),
            list_unsubscribe: Some(ListUnsubscribe {
                https: unsubscribe.clone(),
                mailto: format!(
                    "mailto:{}?subject=unsubscribe-{}",
                    mail.unsubscribe_mailto.as_str(),
                    person.token
                ),
            }),
        };
        let built = mime::build(&message, 1_795_000_000).unwrap();
        bytes += built.raw.len();
        black_box(built);
    }
    let took = started.elapsed();
    println!(
        "  for comparison, Compiled::render + mime::build (mail-builder, whole message, \
         links not rewritten), {whole} messages: {:.0} messages/s, {:.1} µs per message, \
         {} bytes per message",
        whole as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / whole as f64,
        bytes / whole
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
