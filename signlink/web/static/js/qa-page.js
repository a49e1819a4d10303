// QA overview and session pages: everything is on the page already; this draws the charts.
import { drawAll } from "./qa-charts.js";

drawAll(document);
