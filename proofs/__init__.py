"""The paper as code: one module per section or claim group, named by the paper's numbering.

Each module registers checks of catalogue claims (``bnverify.claims.check``); importing the
package's modules (``bnverify.claims.load_proofs``) builds the registry.
"""
