// sealkit-resume.js: keep a server-sealed blob in sessionStorage and resume a
// server job after a reload or a server restart (resume protocol v1).

export const PROTOCOL = "sealkit.resume.v1";

const FATAL = ["unsupported_version", "forbidden_origin"]; // a retry cannot help
// Base URLs where WebSocket failed to open but SSE worked: SSE from now on.
const sseOnly = new Set();

// Storage can throw (quota, privacy mode): that reads as "no blob".
function safe(f) {
	try {
		return f();
	} catch {
		return null;
	}
}
const read = (s, key) => safe(() => s.getItem(key));
const write = (s, key, data) => safe(() => s.setItem(key, data));
const remove = (s, key) => safe(() => s.removeItem(key));
const parse = (text) => safe(() => JSON.parse(text));
const ignore = () => {};

// A blob is a string; anything else (null, missing) means "no blob".
function keep(s, key, data) {
	if (typeof data === "string") write(s, key, data);
	else remove(s, key);
}

// A Phoenix LiveView hook. LiveView copies its properties onto the hook, so
// state lives on `this`.
export const ResumeHook = {
	mounted() {
		for (const ev of ["store", "clear", "restore"]) {
			this.handleEvent(ev, (p) => {
				if (this.handles(p)) this[ev](p);
			});
		}
	},
	// handleEvent listens on window: every hook sees every event. An element
	// with a data-key attribute handles that key only; one without, every key.
	handles(p) {
		const mine = this.el?.dataset?.key;
		return typeof p?.key === "string" && (mine === undefined || mine === p.key);
	},
	disconnected() {
		this.askedSinceDown = false;
	},
	// The server may have lost the answer: send it again, unless it asked
	// again itself (LiveView mounts afresh on rejoin, and a mount that
	// pushes "restore" has had its answer already).
	reconnected() {
		if (this.lastRestore && !this.askedSinceDown) this.restore(this.lastRestore);
	},
	store(p) {
		keep(sessionStorage, p.key, p.data);
	},
	clear(p) {
		remove(sessionStorage, p.key);
	},
	restore(p) {
		this.lastRestore = p;
		this.askedSinceDown = true;
		const sent = this.pushEvent(p.event || "restore", { key: p.key, data: read(sessionStorage, p.key) });
		// LiveView 1.x returns a promise that rejects on an error reply or
		// while disconnected; unhandled, that is an uncaught error.
		if (typeof sent?.catch === "function") sent.catch(ignore);
	},
};

// Transports: (base, {frame, open, down}) => {send, close}; down() runs once.
function webSocket(base, on) {
	let done = false;
	function end() {
		if (done) return;
		done = true;
		on.down();
	}
	let ws;
	try {
		ws = new WebSocket(base.replace(/^http/, "ws"), PROTOCOL);
	} catch {
		setTimeout(end);
		return { close: ignore };
	}
	ws.onopen = on.open;
	ws.onmessage = (e) => on.frame(parse(e.data));
	ws.onclose = end; // "error" is always followed by "close"
	return {
		send: (f) => ws.send(JSON.stringify(f)),
		close() {
			end();
			ws.close();
		},
	};
}

// SSE by a streaming fetch of POST B/stream; frames up go as POST B/send.
function sse(base, on) {
	const abort = new AbortController();
	let done = false;
	let sent = Promise.resolve();
	function end() {
		if (done) return;
		done = true;
		abort.abort();
		on.down();
	}
	function post(path, body) {
		return fetch(base + path, {
			method: "POST",
			body,
			signal: abort.signal,
			cache: "no-store",
			headers: { "Content-Type": "application/json" },
		});
	}
	// One POST at a time, in order; a failure (404 unknown_conn) ends the link.
	async function postFrame(f) {
		if (done) return;
		try {
			const r = await post("/send", JSON.stringify({ conn: self.id, frame: f }));
			if (!r.ok) end();
		} catch {
			end();
		}
	}
	async function stream() {
		const r = await post("/stream", '{"v":1}');
		if (!r.ok) return;
		on.open();
		const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
		let buf = "";
		let data = [];
		for (;;) {
			const { value, done: eof } = await reader.read();
			if (eof || done) return;
			const lines = (buf + value).split("\n");
			buf = lines.pop(); // an unfinished line waits for more
			for (let line of lines) {
				line = line.replace(/\r$/, "");
				if (line.startsWith("data:")) {
					data.push(line.slice(line[5] === " " ? 6 : 5));
				} else if (!line && data.length) {
					on.frame(parse(data.join("\n")));
					data = [];
				}
			}
		}
	}
	const self = {
		send(f) {
			sent = sent.then(() => postFrame(f));
		},
		close: end,
	};
	stream().then(end, end);
	return self;
}

// Connects to the resume handler at options.url, and reconnects by itself.
// It reads and writes options.storage under options.key only.
export function connectResume(options = {}) {
	const { key, transports = ["websocket", "sse"] } = options;
	if (typeof key !== "string" || !key) throw new TypeError("connectResume: bad options.key");
	if (!transports.length || transports.some((t) => t !== "websocket" && t !== "sse")) {
		throw new TypeError("connectResume: bad options.transports");
	}
	const storage = options.storage || sessionStorage;
	const base = new URL(options.url || "/resume", location.href).href.replace(/\/+$/, "");
	const { baseMs = 200, maxMs = 10000 } = options.backoff || {};
	const away = () => document.hidden || navigator.onLine === false;
	function call(name, ...args) {
		try {
			options[name]?.(...args);
		} catch (e) {
			console.error(e);
		}
	}

	let link = null; // the live transport
	let ready = false; // restore answered: actions may go out
	let closed = false;
	let attempt = 0;
	let timer = null;
	let lastSeq = null;
	let nextId = 0;
	let state = "";
	const queue = []; // actions not sent yet
	const pending = new Map(); // sent actions by id, waiting for their reply
	function status(s) {
		if (s === state) return;
		state = s;
		call("onStatus", s);
	}

	function connect() {
		timer = null;
		if (closed || link || away()) return; // wake() comes back later
		status("connecting");
		const usable = transports.filter((t) => t === "sse" || !sseOnly.has(base));
		start(usable.length ? usable : transports, false);
	}

	function start(kinds, fellBack) {
		let opened = false;
		const l = (kinds[0] === "sse" ? sse : webSocket)(base, {
			frame: (f) => frame(l, f),
			open: () => (opened = true),
			down() {
				if (link !== l) return;
				link = null;
				ready = false;
				for (const p of pending.values()) p.reject(new Error("sealkit: connection lost"));
				pending.clear();
				if (closed) return;
				// Died before it opened: try the next transport at once.
				if (!opened && kinds[1]) return start(kinds.slice(1), fellBack || kinds[0] === "websocket");
				status("retrying");
				// Exponential backoff, full jitter, capped.
				const delay = Math.random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt++, 30));
				timer = setTimeout(connect, delay);
			},
		});
		l.fellBack = fellBack;
		link = l;
	}

	function frame(l, f) {
		if (link !== l || typeof f?.t !== "string") return;
		if (["restore", "store", "clear"].includes(f.t) && f.key !== key) {
			// Another key's blob is not ours to hand out or overwrite.
			call("onError", { code: "wrong_key", message: `the server named key ${JSON.stringify(f.key)}, not options.key` });
			return client.close();
		}
		switch (f.t) {
			case "welcome":
				l.id = f.conn;
				if (l.fellBack) sseOnly.add(base);
				return status("open");
			case "restore":
				return l.send({ t: "restored", v: 1, key, data: read(storage, key) });
			case "result":
				ready = true;
				attempt = 0;
				call("onResult", { status: f.status, message: f.message || "" });
				return flush();
			case "store": // a frame without a string blob is ignored
				if (typeof f.data === "string") write(storage, key, f.data);
				return;
			case "clear":
				return remove(storage, key);
			case "snapshot": // resets the sequence, up or down
				lastSeq = f.seq;
				return call("onSnapshot", f.seq, f.data);
			case "event":
				if (lastSeq !== null && f.seq <= lastSeq) return; // seen already
				lastSeq = f.seq;
				return call("onEvent", f.seq, f.data);
			case "reply": {
				const p = pending.get(f.id);
				if (!p) return;
				pending.delete(f.id);
				if (f.ok) p.resolve();
				else p.reject(new Error(f.error || "sealkit: action failed"));
				return;
			}
			case "error":
				call("onError", { code: f.code, message: f.message || "" });
				if (FATAL.includes(f.code)) client.close();
			// "ping" and unknown types: ignored.
		}
	}

	function flush() {
		while (ready && link && queue.length) {
			const a = queue.shift();
			pending.set(a.frame.id, a);
			link.send(a.frame);
		}
	}

	// Pause while hidden or offline; come back at once when that ends.
	function wake() {
		if (closed || link || away()) return;
		clearTimeout(timer);
		connect();
	}
	document.addEventListener("visibilitychange", wake);
	addEventListener("online", wake);

	const client = {
		action(name, data = {}) {
			if (closed) return Promise.reject(new Error("sealkit: client closed"));
			return new Promise((resolve, reject) => {
				queue.push({ frame: { t: "action", id: String(++nextId), name, data }, resolve, reject });
				flush();
			});
		},
		close() { // for good; unanswered actions reject
			if (closed) return;
			closed = true;
			clearTimeout(timer);
			document.removeEventListener("visibilitychange", wake);
			removeEventListener("online", wake);
			for (const a of [...queue.splice(0), ...pending.values()]) a.reject(new Error("sealkit: client closed"));
			pending.clear();
			link?.close();
			status("closed");
		},
		get status() {
			return state;
		},
	};
	connect();
	return client;
}
