package identity

// OIDC is single sign-on through an OpenID Connect provider.
type OIDC struct{}
