package flysim

import "net/http"

// routes maps the Machines API subset and the stand-in Livebook.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	api := func(pattern string, h http.HandlerFunc) { s.route(mux, pattern, true, h) }
	api("POST /v1/apps", s.createApp)
	api("GET /v1/apps", s.listApps)
	api("GET /v1/apps/{app}", s.getApp)
	api("DELETE /v1/apps/{app}", s.deleteApp)

	api("POST /v1/apps/{app}/secrets", s.updateSecrets)
	api("GET /v1/apps/{app}/secrets", s.listSecrets)
	api("GET /v1/apps/{app}/secrets/{name}", s.getSecret)
	api("POST /v1/apps/{app}/secrets/{name}", s.setSecret)
	api("DELETE /v1/apps/{app}/secrets/{name}", s.deleteSecret)

	api("POST /v1/apps/{app}/ip_assignments", s.assignIP)
	api("GET /v1/apps/{app}/ip_assignments", s.listIPs)
	api("DELETE /v1/apps/{app}/ip_assignments/{ip}", s.deleteIP)

	api("POST /v1/apps/{app}/volumes", s.createVolume)
	api("GET /v1/apps/{app}/volumes", s.listVolumes)
	api("GET /v1/apps/{app}/volumes/{id}", s.getVolume)
	api("DELETE /v1/apps/{app}/volumes/{id}", s.deleteVolume)

	api("POST /v1/apps/{app}/machines", s.launchMachine)
	api("GET /v1/apps/{app}/machines", s.listMachines)
	api("GET /v1/apps/{app}/machines/{id}", s.getMachine)
	api("POST /v1/apps/{app}/machines/{id}", s.updateMachine)
	api("DELETE /v1/apps/{app}/machines/{id}", s.destroyMachine)
	api("POST /v1/apps/{app}/machines/{id}/stop", s.stopMachine)
	api("POST /v1/apps/{app}/machines/{id}/start", s.startMachine)
	api("POST /v1/apps/{app}/machines/{id}/suspend", s.suspendMachine)
	api("POST /v1/apps/{app}/machines/{id}/signal", s.signalMachine)
	api("GET /v1/apps/{app}/machines/{id}/wait", s.waitMachine)
	api("GET /v1/apps/{app}/machines/{id}/metadata", s.getMetadata)
	api("POST /v1/apps/{app}/machines/{id}/metadata/{key}", s.setMetadata)
	api("DELETE /v1/apps/{app}/machines/{id}/metadata/{key}", s.deleteMetadata)
	api("GET /v1/apps/{app}/machines/{id}/lease", s.findLease)
	api("POST /v1/apps/{app}/machines/{id}/lease", s.acquireLease)
	api("DELETE /v1/apps/{app}/machines/{id}/lease", s.releaseLease)

	lb := func(pattern string, h http.HandlerFunc) { s.route(mux, pattern, false, h) }
	lb("GET /livebook/{app}/public/health", s.livebookHealth)
	lb("GET /livebook/{app}/{$}", s.livebookLogin)
	lb("POST /livebook/{app}/{$}", s.livebookLogin)
	lb("GET /livebook/{app}/live", s.livebookLive)

	// Fly's GraphQL API (api.fly.io/graphql), organizations only; it
	// authenticates itself, answering in GraphQL's shapes.
	s.route(mux, "POST /graphql", false, s.graphql)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	return mux
}
