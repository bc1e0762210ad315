module github.com/sealkit/sealkit/bench

go 1.26.0

replace github.com/sealkit/sealkit => ../

require (
	github.com/fernet/fernet-go v0.0.0-20240119011108-303da6aec611 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/sealkit/sealkit v0.0.0-00010101000000-000000000000 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/tink-crypto/tink-go/v2 v2.9.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
)
