// prom-client's classes, each from its own module rather than from the
// package's index: the index also loads the Pushgateway (node:http and
// node:https; on Node 24 `require('https')` alone costs 8 MB of RSS) and the
// cluster aggregator (node:cluster), neither of which the sidecar uses. The
// bundle test fails if either comes back.

import type * as PromClient from 'prom-client';

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export type Registry = PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;
export type Histogram<T extends string> = PromClient.Histogram<T>;
