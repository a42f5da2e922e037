//! What a [`Client`] does with each frame its peer sends: requests in
//! text frames, pings answered, a close frame answered with its own reason;
//! binary and fragmented messages are refused.

use std::time::Instant;

use actix::prelude::*;
use actix_http::ws::Item;
use actix_web_actors::ws::{Message, ProtocolError};

use super::client::Client;
use super::link::Ending;
use super::protocol;

impl StreamHandler<Result<Message, ProtocolError>> for Client {
    fn handle(&mut self, msg: Result<Message, ProtocolError>, ctx: &mut Self::Context) {
        self.heard = Instant::now();
        match msg {
            Ok(Message::Text(text)) => self.request(&text, ctx),
            Ok(Message::Binary(_)) | Ok(Message::Continuation(Item::FirstBinary(_))) => {
                self.metrics.ws_request_errors("malformed").inc();
                ctx.text(protocol::error(
                    &None,
                    "binary frames are not supported; send JSON text",
                ));
            }
            Ok(Message::Continuation(Item::FirstText(_))) => {
                self.metrics.ws_request_errors("malformed").inc();
                ctx.text(protocol::error(
                    &None,
                    "fragmented messages are not supported",
                ));
            }
            Ok(Message::Ping(payload)) => ctx.pong(&payload),
            Ok(Message::Close(reason)) => {
                // Answer the peer's close frame with its own reason, as the
                // protocol asks, then stop.
                self.link.end(Ending::Closed);
                ctx.close(reason);
                ctx.stop();
            }
            Ok(Message::Pong(payload)) => self.ponged(&payload, ctx),
            Ok(Message::Continuation(_) | Message::Nop) => {}
            Err(e) => {
                tracing::debug!(client = self.link.id, error = %e, "downstream protocol error");
                self.close(Ending::Error, ctx);
            }
        }
    }
}
