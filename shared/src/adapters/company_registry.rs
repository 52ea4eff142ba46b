//! The company registries: the INSEE Sirene API (`GET {base}/siret/{siret}` with the
//! integration key in `X-INSEE-Api-Key-Integration`), a registry read from a JSON file (the
//! local server's demo data), and the unconfigured one, which is always unreachable (a
//! registration then takes the details as typed).

use crate::adapters::http_client;
use crate::config::SireneSettings;
use crate::error::{Error, Result};
use crate::ports::{CompanyRegistry, Establishment, RegistryAnswer};
use serde::Deserialize;
use std::collections::HashMap;

/// The INSEE Sirene API.
pub struct Sirene {
    base_url: String,
    api_key: String,
}

impl Sirene {
    /// The API at its configured base URL, with its key.
    pub fn new(settings: &SireneSettings) -> Self {
        Sirene { base_url: settings.base_url.clone(), api_key: settings.api_key.0.clone() }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SiretResponse {
    etablissement: Etablissement,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Etablissement {
    siret: String,
    unite_legale: UniteLegale,
    adresse_etablissement: Adresse,
    #[serde(default)]
    periodes_etablissement: Vec<Periode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UniteLegale {
    denomination_unite_legale: Option<String>,
    nom_unite_legale: Option<String>,
    prenom1_unite_legale: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Adresse {
    numero_voie_etablissement: Option<String>,
    type_voie_etablissement: Option<String>,
    libelle_voie_etablissement: Option<String>,
    code_postal_etablissement: Option<String>,
    libelle_commune_etablissement: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Periode {
    date_fin: Option<String>,
    etat_administratif_etablissement: Option<String>,
}

/// The establishment of a Sirene answer: the current period (no end date) says whether it is
/// active; a sole trader has a name where a company has a denomination.
fn establishment(e: Etablissement) -> Establishment {
    let legal = e.unite_legale;
    let name = legal.denomination_unite_legale.unwrap_or_else(|| {
        [legal.prenom1_unite_legale, legal.nom_unite_legale].into_iter().flatten().collect::<Vec<_>>().join(" ")
    });
    let a = e.adresse_etablissement;
    let address = [a.numero_voie_etablissement, a.type_voie_etablissement, a.libelle_voie_etablissement]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let current = e.periodes_etablissement.iter().find(|p| p.date_fin.is_none()).or(e.periodes_etablissement.first());
    Establishment {
        siret: e.siret,
        name,
        address,
        postal_code: a.code_postal_etablissement.unwrap_or_default(),
        city: a.libelle_commune_etablissement.unwrap_or_default(),
        active: current.and_then(|p| p.etat_administratif_etablissement.as_deref()) != Some("F"),
    }
}

#[async_trait::async_trait]
impl CompanyRegistry for Sirene {
    async fn establishment(&self, siret: &str) -> Result<RegistryAnswer> {
        let url = format!("{}/siret/{siret}", self.base_url);
        let headers = [("X-INSEE-Api-Key-Integration", self.api_key.as_str()), ("Accept", "application/json")];
        let (status, body) =
            http_client::send(http::Method::GET, &url, &headers, bytes::Bytes::new(), 256 * 1024).await?;
        match status.as_u16() {
            200 => {
                let answer: SiretResponse = serde_json::from_slice(&body)
                    .map_err(|e| Error::unavailable(format!("Sirene answer unreadable: {e}")))?;
                Ok(RegistryAnswer::Found(establishment(answer.etablissement)))
            }
            // 404: unknown; 403: known but not disclosed (the owner opted out): the entity
            // types its details in.
            404 => Ok(RegistryAnswer::Unknown),
            other => Err(Error::unavailable(format!("Sirene answered {other}"))),
        }
    }
}

/// A registry read from a JSON file: `{"<siret>": {establishment}, …}`.
pub struct RegistryFile {
    entries: HashMap<String, Establishment>,
}

impl RegistryFile {
    /// Reads the file.
    pub fn open(path: &str) -> std::result::Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("registry file {path}: {e}"))?;
        let entries = serde_json::from_str(&text).map_err(|e| format!("registry file {path}: {e}"))?;
        Ok(RegistryFile { entries })
    }
}

#[async_trait::async_trait]
impl CompanyRegistry for RegistryFile {
    async fn establishment(&self, siret: &str) -> Result<RegistryAnswer> {
        Ok(match self.entries.get(siret) {
            Some(e) => RegistryAnswer::Found(e.clone()),
            None => RegistryAnswer::Unknown,
        })
    }
}

/// No registry configured: always unreachable.
pub struct NoRegistry;

#[async_trait::async_trait]
impl CompanyRegistry for NoRegistry {
    async fn establishment(&self, _siret: &str) -> Result<RegistryAnswer> {
        Err(Error::unavailable("no company registry configured"))
    }
}

/// The registry the configuration names: Sirene, else the file, else none.
pub fn configured(config: &crate::config::Config) -> std::sync::Arc<dyn CompanyRegistry> {
    let settings = &config.organisations;
    if let Some(sirene) = &settings.sirene {
        return std::sync::Arc::new(Sirene::new(sirene));
    }
    if let Some(path) = &settings.registry_file {
        match RegistryFile::open(path) {
            Ok(file) => return std::sync::Arc::new(file),
            Err(e) => tracing::warn!(error = %e, "company registry file unreadable; registrations take typed details"),
        }
    }
    std::sync::Arc::new(NoRegistry)
}
