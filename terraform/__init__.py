"""CDKTF app of salesflow: bootstrap, Confluent, Flink and AWS stacks per environment (terraform/README.md).

Every ``cdktf`` import of the repository lives under this package; ``python terraform/main.py``
synthesizes plain Terraform JSON into ``terraform/cdktf.out/stacks/<stack>/cdk.tf.json``.
"""

from terraform.aws_bindings import register_without_eager_imports

register_without_eager_imports()
register_without_eager_imports("cdktf_cdktf_provider_github")
