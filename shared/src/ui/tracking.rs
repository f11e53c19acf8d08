//! The public tracking endpoints every tracked mailing links to: the click
//! redirect (`/k/{token}`) and the open pixel (`/o/{token}`). Nobody signs
//! in here, and nothing but the signed token is read from the request: the
//! destination comes from the campaign's link table (`services::tracking`),
//! so a query string or another parameter can never choose where the
//! redirect goes.
//!
//! A click answers 302 to the destination, or a small neutral 404 page for
//! a token that is not ours (forged, altered, of a campaign that is gone).
//! The pixel always answers the same transparent GIF, whatever the token:
//! a mail client learns nothing from it. Neither answer may be cached, or
//! a second open or click would never reach us.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::forms::Visit;
use crate::App;
use crate::services::tracking::{self, TrackingError};

/// A transparent GIF of one pixel: the smallest there is (43 bytes).
pub const PIXEL_GIF: [u8; 43] = [
    b'G', b'I', b'F', b'8', b'9', b'a', // signature and version
    0x01, 0x00, 0x01, 0x00, // 1 × 1
    0x80, 0x00, 0x00, // a global colour table of two colours
    0x00, 0x00, 0x00, 0xff, 0xff, 0xff, // black, white
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, // colour 0 is transparent
    0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // the image
    0x02, 0x02, 0x44, 0x01, 0x00, // its one pixel, colour 0
    0x3b, // the end
];

/// `GET /k/{token}`: to the link's destination.
pub(super) async fn click(visit: Visit, token: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(token)) = token else {
        return not_found(&visit);
    };
    match tracking::click(&visit.app, &token).await {
        Ok(destination) => match HeaderValue::from_str(destination.as_str()) {
            Ok(location) => (
                StatusCode::FOUND,
                [
                    (header::LOCATION, location),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    (
                        header::REFERRER_POLICY,
                        HeaderValue::from_static("no-referrer"),
                    ),
                ],
            )
                .into_response(),
            Err(_) => not_found(&visit),
        },
        Err(TrackingError::Store(e)) => {
            let mut response = visit.store_failure(e);
            private(&mut response);
            response
        }
        Err(e) => {
            tracing::debug!(error = %e, "tracking: a link led nowhere");
            not_found(&visit)
        }
    }
}

/// `GET /o/{token}`: the pixel, and the open recorded when the token is
/// ours.
pub(super) async fn open(
    State(app): State<App>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    if let Ok(Path(token)) = token
        && let Err(e) = tracking::open(&app, &token).await
    {
        tracing::debug!(error = %e, "tracking: a pixel led nowhere");
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, max-age=0"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        PIXEL_GIF.as_slice(),
    )
        .into_response()
}

/// The same neutral page for every link that leads nowhere.
fn not_found(visit: &Visit) -> Response {
    let mut response = super::error_page(
        StatusCode::NOT_FOUND,
        visit.lang,
        &visit.tr("tracking-link-invalid"),
    );
    super::security_headers(&mut response, visit.https);
    private(&mut response);
    response
}

/// Not cached, not indexed, no referrer: a page reached by a personal link.
fn private(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pixel_is_a_43_byte_gif_of_one_transparent_pixel() {
        assert_eq!(PIXEL_GIF.len(), 43);
        assert!(PIXEL_GIF.starts_with(b"GIF89a"));
        // 1 × 1, per the logical screen descriptor.
        assert_eq!(&PIXEL_GIF[6..10], &[1, 0, 1, 0]);
        // The graphic control extension: transparency on, colour 0.
        assert_eq!(&PIXEL_GIF[19..23], &[0x21, 0xf9, 0x04, 0x01]);
        assert_eq!(PIXEL_GIF[25], 0);
        assert_eq!(PIXEL_GIF.last(), Some(&0x3b));
    }
}
