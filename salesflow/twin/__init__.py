"""The local twin of the cloud side: an Iceberg table, its catalogs (SQL, and an Iceberg REST catalog the way
Tableflow serves it), and AWS (moto on 127.0.0.1), so the exporter's production code paths run offline."""
