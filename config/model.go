// Package config is hotgrid's configuration model and its readers for
// Infinispan server configuration files (XML, and the YAML and JSON forms of
// the same schema).
//
// The model holds only what hotgrid supports. Readers reject an element or
// attribute they do not know with an error naming it and its line, and warn
// where ignoring something changes nothing (see Warning).
package config

import "time"

// Server is a whole server configuration: the cache container, the network
// interfaces and socket bindings, the endpoints and the security realms.
type Server struct {
	Container      Container
	Interfaces     []Interface
	SocketBindings SocketBindings
	Endpoints      Endpoints
	SecurityRealms []SecurityRealm
}

// Container is the cache-container element.
type Container struct {
	Name         string // "default" unless set
	DefaultCache string // name of the default cache, "" if none
	Statistics   bool
	// Authorization is security/authorization in the cache container; nil
	// when absent.
	Authorization *Authorization
	// Caches are the concrete cache definitions in document order.
	Caches []*Cache
	// Templates are the *-cache-configuration definitions in document order.
	Templates []*Cache
}

// CacheMode is the clustering mode of a cache.
type CacheMode int

// Cache modes, as Infinispan names them.
const (
	ModeLocal CacheMode = iota
	ModeDistributed
	ModeReplicated
	ModeInvalidation
)

// Cache is one cache definition or template.
type Cache struct {
	Name     string
	Mode     CacheMode
	Template bool
	// Parent is the template this definition inherits from (the
	// configuration attribute), "" if none. Resolve applies it.
	Parent string
	Async  bool // mode="ASYNC"
	// Owners and Segments apply to distributed caches (defaults 2 and 256);
	// Segments applies to replicated caches too.
	Owners   int
	Segments int
	// Aliases are other names for the cache (RESP maps SELECT n to the
	// cache whose aliases include n).
	Aliases []string
	// Statistics enables per-cache statistics.
	Statistics bool
	// Encoding holds the storage media types for keys and values; "" means
	// no encoding: bytes are stored as clients send them, as Infinispan
	// does for a cache without an encoding.
	KeyMediaType   string
	ValueMediaType string
	Expiration     Expiration
	Memory         Memory
	Locking        Locking
	// Persistence configures the cache's stores; no stores means memory
	// only.
	Persistence Persistence
	// Authorization is the cache's security/authorization element.
	Authorization CacheAuthorization
	// Set records which fields were set explicitly in the document, by their
	// Infinispan attribute path (for example "expiration.lifespan"), so that
	// template inheritance only overrides what a child sets.
	Set map[string]bool
}

// CacheAuthorization restricts a cache to some of the container's roles.
// A cache is secured whenever the container's authorization is enabled,
// as in an Infinispan server; Roles empty admits every role.
type CacheAuthorization struct {
	Roles []string
	// Disabled (enabled="false") leaves the cache unsecured.
	Disabled bool
}

// Expiration configures entry expiration. A negative duration means never.
type Expiration struct {
	Lifespan time.Duration // default -1
	MaxIdle  time.Duration // default -1
	Interval time.Duration // reaper interval, default 60s; <= 0 disables the reaper
}

// WhenFull is the eviction strategy of a bounded cache.
type WhenFull string

// Eviction strategies.
const (
	WhenFullNone      WhenFull = "NONE"
	WhenFullRemove    WhenFull = "REMOVE"
	WhenFullManual    WhenFull = "MANUAL"
	WhenFullException WhenFull = "EXCEPTION"
)

// Memory bounds a cache.
type Memory struct {
	MaxCount int64 // entries; -1 unbounded
	MaxSize  int64 // bytes; -1 unbounded ("400MB", "1GB" … in documents)
	WhenFull WhenFull
	Storage  string // HEAP or OFF_HEAP, accepted and recorded
}

// Persistence is the persistence element of a cache.
type Persistence struct {
	// Passivation writes entries to the stores only when they leave
	// memory (eviction, shutdown) and removes them from the stores when
	// they are loaded back.
	Passivation bool
	Stores      []Store
}

// Store kinds, by the Infinispan element that declares them.
const (
	StoreFile          = "file-store"              // and soft-index-file-store
	StoreStringKeyedDB = "string-keyed-jdbc-store" // PostgreSQL
)

// Store is one store of a cache, as Infinispan's store elements declare it.
type Store struct {
	// Kind is StoreFile or StoreStringKeyedDB; Element the element name
	// it was read from (file-store or soft-index-file-store).
	Kind    string
	Element string
	// Path is the directory of a file store, relative to the server's
	// data directory unless absolute; "" means the cache's name.
	Path string
	// SyncWrites (soft-index-file-store <data sync-writes>) makes every
	// write durable before it is acknowledged.
	SyncWrites     bool
	Shared         bool
	Preload        bool
	PurgeOnStartup bool // the purge attribute
	ReadOnly       bool
	// WriteBehind, when set, makes writes asynchronous.
	WriteBehind *WriteBehind
	// Connection and table settings of a JDBC store.
	ConnectionURL string
	Username      string
	Password      string
	Table         Table
	// Properties are the store's <property name=…> children; hotgrid reads
	// "durability" (sync, group or interval) and "sync-interval" there.
	Properties map[string]string
}

// WriteBehind is the write-behind element of a store.
type WriteBehind struct {
	QueueSize    int // modification-queue-size, default 1024
	FailSilently bool
}

// Table is the string-keyed-table element of a JDBC store.
type Table struct {
	Prefix        string // default ISPN_STRING_TABLE
	CreateOnStart bool   // default true
	DropOnExit    bool
	IDColumn      Column
	DataColumn    Column
	TimeColumn    Column
	SegmentColumn Column
}

// Column names a table column and its SQL type.
type Column struct{ Name, Type string }

// Locking is accepted and recorded; a single-node container has no lock
// configuration that changes semantics.
type Locking struct {
	Isolation        string
	Striping         bool
	AcquireTimeout   time.Duration
	ConcurrencyLevel int
}

// Interface is a named network interface with an inet address.
type Interface struct {
	Name    string
	Address string // host or IP as configured (after ${} expansion)
}

// SocketBindings is the socket-bindings element.
type SocketBindings struct {
	DefaultInterface string
	PortOffset       int
	Bindings         []SocketBinding
}

// SocketBinding is a named port on an interface.
type SocketBinding struct {
	Name      string
	Port      int
	Interface string // "" means SocketBindings.DefaultInterface
}

// Endpoints is the endpoints element: the single-port endpoint and the
// connectors declared inside it.
type Endpoints struct {
	SocketBinding string
	SecurityRealm string
	Connectors    []Connector
	// RequireClientCert (require-ssl-client-auth) makes TLS handshakes
	// fail without a client certificate the truststore verifies.
	RequireClientCert bool
	// MetricsAuth (metrics-auth, default true) requires authentication
	// for /metrics.
	MetricsAuth bool
	// SNI maps TLS server names to the realms whose identities serve them.
	SNI []SNI
}

// SNI is an sni element: a host name served with another realm's identity.
type SNI struct {
	HostName      string
	SecurityRealm string
}

// Connector is a protocol connector inside endpoints (hotrod-connector,
// rest-connector, resp-connector, memcached-connector). A connector with its
// own SocketBinding gets a dedicated port.
type Connector struct {
	Protocol      string // "hotrod", "rest", "resp", "memcached"
	Name          string
	SocketBinding string
	Cache         string // resp/memcached: the cache they serve
	// Mechanisms are the authentication mechanisms the connector offers
	// (hotrod sasl mechanisms, rest authentication mechanisms); none means
	// every mechanism the realm supports.
	Mechanisms []string
	// ServerName is the SASL server name (default "infinispan").
	ServerName string
}

// Authorization is the cache container's authorization element: the role
// mapper and the roles (none means Infinispan's default roles).
type Authorization struct {
	Mapper string // cluster (default), identity or common-name
	Roles  []RoleDef
}

// RoleDef is a role element: a name and its permissions as written
// ("READ WRITE").
type RoleDef struct {
	Name        string
	Permissions string
}

// SecurityRealm is a named realm; hotgrid supports properties realms.
type SecurityRealm struct {
	Name       string
	Properties *PropertiesRealm
	// TLS is the realm's server-identities/ssl element: the certificate
	// endpoints using this realm present, and the truststore that verifies
	// client certificates.
	TLS *ServerTLS
	// TruststoreRealm authenticates clients by their certificates
	// (truststore-realm): SASL EXTERNAL and REST CLIENT_CERT.
	TruststoreRealm bool
}

// ServerTLS is a realm's ssl server identity.
type ServerTLS struct {
	// Keystore is a PKCS#12 or PEM file holding the certificate chain and
	// private key; Alias picks an entry in a PKCS#12 store.
	Keystore         FileRef
	KeystorePassword string
	Alias            string
	// Truststore, when set, holds the certificates client certificates
	// must chain to.
	Truststore         FileRef
	TruststorePassword string
	// Protocols are the engine's enabled-protocols (TLSv1.2, TLSv1.3).
	Protocols []string
}

// FileRef is a path with Infinispan's relative-to property name.
type FileRef struct {
	Path       string
	RelativeTo string
}

// PropertiesRealm points at users.properties and groups.properties files.
type PropertiesRealm struct {
	RealmName      string
	UsersPath      string
	UsersRelative  string // relative-to, e.g. infinispan.server.config.path
	GroupsPath     string
	GroupsRelative string
	PlainText      bool
}

// Warning is a non-fatal remark about a configuration document, for
// something that was ignored without changing meaning.
type Warning struct {
	Line int
	Msg  string
}

func (w Warning) String() string {
	if w.Line > 0 {
		return "line " + itoa(w.Line) + ": " + w.Msg
	}
	return w.Msg
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
