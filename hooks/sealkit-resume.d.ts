// Type declarations for sealkit-resume.js, the browser side of the sealkit
// resume protocol v1.

/** The WebSocket subprotocol of the resume protocol v1. */
export declare const PROTOCOL: "sealkit.resume.v1";

/** Payload of the LiveView "store" event. A data that is not a string (null, or missing) clears the key instead. */
export interface StorePayload {
	key: string;
	data?: string | null;
}

/** Payload of the LiveView "clear" event. */
export interface ClearPayload {
	key: string;
}

/** Payload of the LiveView "restore" event. */
export interface RestorePayload {
	key: string;
	/** The event pushed back; "restore" when absent. */
	event?: string;
}

/** What ResumeHook pushes back for a restore: data is null when nothing is stored. */
export interface RestoredPayload {
	key: string;
	data: string | null;
}

/** The part of a LiveView hook instance that ResumeHook uses. */
export interface ResumeHookThis {
	/** The hook's element; its data-key attribute, when present, is the only key it handles. */
	el: HTMLElement;
	handleEvent(event: string, callback: (payload: any) => void): void;
	/** LiveView 1.x returns a promise; ResumeHook catches its rejection. */
	pushEvent(event: string, payload: RestoredPayload): unknown;
	/** The last restore request, answered again by reconnected(). */
	lastRestore?: RestorePayload;
	/** Whether a restore request arrived since disconnected(). */
	askedSinceDown?: boolean;
}

/**
 * A Phoenix LiveView hook that keeps sealed blobs in sessionStorage:
 * `new LiveSocket("/live", Socket, {hooks: {Resume: ResumeHook}})`.
 * It handles the server events "store", "clear" and "restore" and answers a
 * restore with `pushEvent(event || "restore", {key, data})`. After a
 * reconnect it answers the last restore again only when no restore request
 * arrived since the disconnect (a LiveView whose mount pushes "restore" gets
 * one answer). An element with a data-key attribute handles the events of
 * that key only; one without handles every key. A failed push (an error
 * reply, or while disconnected) is dropped, never an uncaught error.
 */
export declare const ResumeHook: {
	mounted(this: ResumeHookThis): void;
	/** Whether this element handles an event with this payload. */
	handles(this: ResumeHookThis, payload: unknown): boolean;
	disconnected(this: ResumeHookThis): void;
	reconnected(this: ResumeHookThis): void;
	store(this: ResumeHookThis, payload: StorePayload): void;
	clear(this: ResumeHookThis, payload: ClearPayload): void;
	restore(this: ResumeHookThis, payload: RestorePayload): void;
};

/** The outcome of a restore, as the server reports it. */
export type ResumeStatus = "fresh" | "resumed" | "expired" | "invalid" | "unbound";

/** A typed restore result. For expired, invalid and unbound the blob is cleared. */
export interface ResumeResult {
	status: ResumeStatus;
	message: string;
}

/**
 * A protocol error frame from the server, or the client's own refusal
 * "wrong_key": the server named another key than options.key.
 */
export interface ResumeProtocolError {
	code: "bad_frame" | "too_large" | "unsupported_version" | "unknown_conn" | "forbidden_origin" | "internal" | "wrong_key" | string;
	message: string;
}

/** The connection status of a ResumeClient. */
export type ConnectionStatus = "connecting" | "open" | "retrying" | "closed";

/** A transport of the resume protocol. */
export type Transport = "websocket" | "sse";

/** Options of connectResume. */
export interface ConnectResumeOptions {
	/**
	 * The storage key of the sealed blob, and the only key the client reads or
	 * writes; required. It must equal the server's key (resume.Options.Key):
	 * a restore, store or clear frame for another key is refused with
	 * onError({code: "wrong_key"}) and the client closes for good.
	 */
	key: string;
	/** Base URL of the resume handler, absolute or relative to the page; default "/resume". */
	url?: string | URL;
	/**
	 * Transports in order of preference; default ["websocket", "sse"]. When a
	 * WebSocket fails to open and SSE then works, the page uses SSE for this
	 * URL from then on. ["sse"] forces the fallback.
	 */
	transports?: Transport[];
	/** Where the blob lives; default sessionStorage. */
	storage?: Pick<Storage, "getItem" | "setItem" | "removeItem">;
	/** Called after each (re)connect once the server opened the blob. */
	onResult?(result: ResumeResult): void;
	/** Job state; resets the last seq to seq. */
	onSnapshot?(seq: number, data: unknown): void;
	/** A job event; called in order, never twice for one seq. */
	onEvent?(seq: number, data: unknown): void;
	onStatus?(status: ConnectionStatus): void;
	/**
	 * A protocol error frame; the connection then closes and, unless fatal
	 * (unsupported_version, forbidden_origin, wrong_key), reconnects.
	 */
	onError?(error: ResumeProtocolError): void;
	/** Reconnect delay: random in [0, min(maxMs, baseMs * 2^attempt)); default 200 and 10000. */
	backoff?: { baseMs?: number; maxMs?: number };
}

/** A live resume connection. */
export interface ResumeClient {
	/**
	 * Sends an application action once the connection is ready; resolves when
	 * the server replies ok, rejects with the reply error, or when the
	 * connection drops before the reply or the client closes.
	 */
	action(name: string, data?: unknown): Promise<void>;
	/** Closes the connection for good. */
	close(): void;
	/** The current connection status. */
	readonly status: ConnectionStatus | "";
}

/**
 * Connects to the sealkit resume handler and keeps the connection: it sends
 * the stored blob on every (re)connect, stores and clears it as the server
 * says, reconnects with capped exponential backoff and full jitter, pauses
 * while the page is hidden or offline, and falls back from WebSocket to
 * SSE+POST. Throws TypeError for bad options.
 */
export declare function connectResume(options: ConnectResumeOptions): ResumeClient;
