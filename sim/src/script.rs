//! The deterministic event generator: a pure, endless (or bounded) sequence of
//! trades and quotes per market, with anomalies injected on a fixed schedule.
//!
//! Normal behaviour is built so that the detector's default rules never fire
//! on it: trading instruments are drawn uniformly, sizes are small and uniform,
//! and each price takes a ±0.05 % step per trade with a gentle pull towards an
//! anchor level, so it wanders well under 2 % from its recent average. The
//! injections follow [`super::schedule`]: a volume spike is one trade of 60 times
//! the mean size, a price jump lifts the instrument's price and anchor by 5 %, and
//! a burst is 150 consecutive trades of one instrument 3 ms apart. After a jump
//! the anchor relaxes back towards the starting price over thousands of trades,
//! far too slowly to be seen as another jump, so long runs stay plausible.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tapewatch_actors::messages::AnomalyKind;

use std::collections::VecDeque;

use super::flow_schedule::{flow_events, flow_slot, FlowCounters};
use super::instruments::{Instrument, Market, OPTION_EXCHANGES, STOCK_EXCHANGES};
use super::schedule::{slot, ScriptConfig, Slot, BURST_STEP_MS, BURST_TRADES, PRICE_JUMP};
use super::sim_event::{SimEvent, SimQuote, SimTrade};

/// Largest random step of the log price per trade (±0.05 %).
const WALK_STEP: f64 = 0.0005;
/// Share of the gap between price and anchor closed per trade.
const ANCHOR_PULL: f64 = 0.002;
/// Share of the gap between anchor and starting price closed per trade.
const ANCHOR_RELAX: f64 = 1.0 / 3000.0;

/// Condition lists a stock trade may carry: intermarket sweep (14) and
/// trade-through exempt (41), or nothing most of the time.
const STOCK_CONDITIONS: [&[i32]; 10] = [&[14], &[41], &[14, 41], &[], &[], &[], &[], &[], &[], &[]];
/// Condition lists an option trade may carry (OPRA codes as Polygon numbers them).
const OPTION_CONDITIONS: [&[i32]; 10] = [
    &[209],
    &[209],
    &[209],
    &[209],
    &[209],
    &[233],
    &[],
    &[],
    &[],
    &[],
];

/// Price state of one instrument, in natural-log space.
#[derive(Debug, Clone)]
struct PriceState {
    log_price: f64,
    log_anchor: f64,
    log_start: f64,
    sequence: u64,
}

/// The generator for one market. Create it once per simulator so that the
/// position carries over from one connection to the next.
#[derive(Debug, Clone)]
pub struct Script {
    cfg: ScriptConfig,
    market: Market,
    instruments: &'static [Instrument],
    trade_rng: ChaCha8Rng,
    quote_rng: ChaCha8Rng,
    prices: Vec<PriceState>,
    next_index: u64,
    last_time_ms: i64,
    next_slot_number: u64,
    next_slot: Option<Slot>,
    burst_instrument: usize,
    burst_left: u64,
    pending_quote: Option<SimQuote>,
    quote_sequence: u64,
    trade_id: u64,
    next_flow_number: u64,
    next_flow: Option<(u64, usize)>,
    pending_flow: VecDeque<SimEvent>,
    flow_counters: FlowCounters,
}

impl Script {
    /// A script at its first event.
    pub fn new(cfg: ScriptConfig, market: Market) -> Self {
        let instruments = market.instruments();
        let market_stream = match market {
            Market::Stocks => 0,
            Market::Options => 2,
        };
        // Trades and quotes use separate streams of the same seed, so turning
        // quotes off leaves the trades unchanged.
        let mut trade_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        trade_rng.set_stream(market_stream);
        let mut quote_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        quote_rng.set_stream(market_stream + 1);
        let prices = instruments
            .iter()
            .map(|inst| PriceState {
                log_price: inst.start_price.ln(),
                log_anchor: inst.start_price.ln(),
                log_start: inst.start_price.ln(),
                sequence: 0,
            })
            .collect();
        let next_slot = slot(&cfg, market, 0);
        let next_flow = match market {
            Market::Options => flow_slot(&cfg, 0),
            Market::Stocks => None,
        };
        Script {
            last_time_ms: cfg.base_time_ms,
            cfg,
            market,
            instruments,
            trade_rng,
            quote_rng,
            prices,
            next_index: 0,
            next_slot_number: 0,
            next_slot,
            burst_instrument: 0,
            burst_left: 0,
            pending_quote: None,
            quote_sequence: 0,
            trade_id: 0,
            next_flow_number: 0,
            next_flow,
            pending_flow: VecDeque::new(),
            flow_counters: FlowCounters::default(),
        }
    }

    /// The market this script generates.
    pub fn market(&self) -> Market {
        self.market
    }

    /// How many trades have been generated so far.
    pub fn trades_generated(&self) -> u64 {
        self.next_index
    }

    /// The next event, or None once `total_events` trades (and the quote that
    /// may follow the last one) have been produced.
    pub fn next_event(&mut self) -> Option<SimEvent> {
        if let Some(quote) = self.pending_quote.take() {
            return Some(SimEvent::Quote(quote));
        }
        if let Some(event) = self.pending_flow.pop_front() {
            return Some(event);
        }
        let trade = self.next_trade()?;
        if self.cfg.quotes && self.quote_rng.random_bool(0.5) {
            self.pending_quote = Some(self.quote_after(&trade));
        }
        if let Some((_, k)) = self.next_flow.filter(|(i, _)| *i == trade.index) {
            self.next_flow_number += 1;
            self.next_flow = flow_slot(&self.cfg, self.next_flow_number);
            let events = flow_events(k, &trade, &mut self.flow_counters, &mut self.quote_sequence);
            self.pending_flow.extend(events);
        }
        Some(SimEvent::Trade(trade))
    }

    fn next_trade(&mut self) -> Option<SimTrade> {
        let index = self.next_index;
        if self.cfg.total_events.is_some_and(|total| index >= total) {
            return None;
        }
        let mut kind = None;
        let in_burst = self.burst_left > 0;
        let instrument = if in_burst {
            self.burst_left -= 1;
            self.burst_instrument
        } else if let Some(s) = self.next_slot.filter(|s| s.index == index) {
            self.next_slot_number += 1;
            self.next_slot = slot(&self.cfg, self.market, self.next_slot_number);
            kind = Some(s.kind);
            if s.kind == AnomalyKind::TradeBurst {
                self.burst_instrument = s.instrument;
                self.burst_left = BURST_TRADES - 1;
            }
            s.instrument
        } else {
            self.trade_rng.random_range(0..self.instruments.len())
        };
        let bursting = in_burst || kind == Some(AnomalyKind::TradeBurst);
        if index > 0 {
            let step = if bursting {
                BURST_STEP_MS
            } else {
                self.cfg.step_ms
            };
            self.last_time_ms = self.last_time_ms.saturating_add(step);
        }
        self.next_index += 1;

        let price = self.move_price(instrument, kind == Some(AnomalyKind::PriceJump));
        let size = match (kind, self.market) {
            (Some(AnomalyKind::VolumeSpike), market) => market.spike_size(),
            (_, Market::Stocks) => self.trade_rng.random_range(1..=5u64) * 100,
            (_, Market::Options) => self.trade_rng.random_range(1..=10u64),
        };
        let (exchanges, conditions) = match self.market {
            Market::Stocks => (&STOCK_EXCHANGES, &STOCK_CONDITIONS),
            Market::Options => (&OPTION_EXCHANGES, &OPTION_CONDITIONS),
        };
        let exchange = exchanges[self.trade_rng.random_range(0..exchanges.len())];
        let conditions = conditions[self.trade_rng.random_range(0..conditions.len())];
        let state = &mut self.prices[instrument];
        state.sequence += self.trade_rng.random_range(1..=3u64);
        if self.market == Market::Stocks {
            self.trade_id += 1;
        }
        Some(SimTrade {
            index,
            symbol: self.instruments[instrument].symbol,
            exchange,
            price,
            size,
            conditions,
            time_ms: self.last_time_ms,
            sequence: state.sequence,
            trade_id: self.trade_id,
            tape: self.instruments[instrument].tape,
        })
    }

    /// Moves the instrument's price for one trade and returns it in cents.
    fn move_price(&mut self, instrument: usize, jump: bool) -> f64 {
        let state = &mut self.prices[instrument];
        if jump {
            let lift = (1.0 + PRICE_JUMP).ln();
            state.log_price += lift;
            state.log_anchor += lift;
        } else {
            let noise = self.trade_rng.random_range(-WALK_STEP..=WALK_STEP);
            state.log_price += noise + ANCHOR_PULL * (state.log_anchor - state.log_price);
            state.log_anchor += ANCHOR_RELAX * (state.log_start - state.log_anchor);
        }
        round_cents(state.log_price.exp())
    }

    fn quote_after(&mut self, trade: &SimTrade) -> SimQuote {
        let rng = &mut self.quote_rng;
        let (spread, exchanges, max_size) = match self.market {
            Market::Stocks => (0.01 * rng.random_range(1..=4) as f64, &STOCK_EXCHANGES, 20),
            Market::Options => (0.05 * rng.random_range(1..=3) as f64, &OPTION_EXCHANGES, 50),
        };
        let bid = round_cents((trade.price - spread / 2.0).max(0.01));
        self.quote_sequence += 1;
        SimQuote {
            symbol: trade.symbol,
            bid_exchange: exchanges[rng.random_range(0..exchanges.len())],
            bid,
            bid_size: rng.random_range(1..=max_size),
            ask_exchange: exchanges[rng.random_range(0..exchanges.len())],
            ask: round_cents(bid + spread),
            ask_size: rng.random_range(1..=max_size),
            time_ms: trade.time_ms,
            sequence: self.quote_sequence,
            tape: trade.tape,
        }
    }
}

/// Rounds a price to whole cents.
fn round_cents(price: f64) -> f64 {
    (price * 100.0).round() / 100.0
}
