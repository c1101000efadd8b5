<#
  Helpers the Active Directory scripts of the self-contained lab share (ad_accounts.ps1, ad_cluster_ou.ps1). A Run
  Command sends one script, so components/guest.py puts this text where a script has the line
  "# entsso-include: ad_library.ps1" (after its param() block) before the script is sent.
#>

# The AD cmdlets talk to Active Directory Web Services, which starts a little after the directory itself: wait
# for it until the deadline, then fail with what it last said.
function Wait-ADDomain([string]$Name, [int]$TimeoutSeconds) {
    # learn.microsoft.com/powershell/module/microsoft.powershell.core/import-module
    Import-Module ActiveDirectory
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    while ($true) {
        try {
            # learn.microsoft.com/powershell/module/activedirectory/get-addomain
            return (Get-ADDomain -Identity $Name)
        } catch {
            if ((Get-Date) -ge $deadline) {
                throw ('Active Directory Web Services on {0} did not answer for {1} within {2} s: {3}' -f
                    $env:COMPUTERNAME, $Name, $TimeoutSeconds, $_.Exception.Message)
            }
            Start-Sleep -Seconds 10
        }
    }
}

# A lookup that answers $null for "no such object": -Identity throws ADIdentityNotFoundException, whose
# category is ObjectNotFound; any other error stays an error.
function Find-Directory([scriptblock]$Lookup) {
    try {
        return (& $Lookup)
    } catch {
        if ($_.CategoryInfo.Category -eq [System.Management.Automation.ErrorCategory]::ObjectNotFound) { return $null }
        throw
    }
}
